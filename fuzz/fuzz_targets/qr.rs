//! QR codes read from an image (a screenshot or a camera frame of an activation or `otpauth://`
//! link): any grey-scale image of any size decodes to text or to an error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushotp::decode_qr_luma;

fuzz_target!(|data: &[u8]| {
    // The first byte is the width, the rest the pixels row by row (a last partial row is cut).
    let Some((&width, pixels)) = data.split_first() else { return };
    let width = usize::from(width).max(1);
    let height = pixels.len() / width;
    let Some(pixels) = pixels.get(..width * height) else { return };
    let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else { return };
    match decode_qr_luma(pixels, w, h) {
        Ok(_) => assert!(height > 0, "an empty image is refused"),
        Err(_) => assert_eq!(height, 0, "only an empty image is refused"),
    }
});
