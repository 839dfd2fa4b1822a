//! QR code reading: the text of every QR code in an image, such as a screenshot of the page
//! that shows an activation link or an `otpauth://` link.
//!
//! Detection and error correction are [`quircs`]'s (a pure-Rust port of quirc); this module
//! checks the image's shape, turns its pixels into luminance, gives small codes a second look
//! at twice the size and keeps the codes whose payload is text.

use crate::error::{Error, Result};

/// The largest accepted width or height of an image, in pixels. A screenshot of an 8K screen
/// fits; the bound keeps a hostile caller from making the decoder allocate without limit.
pub const MAX_IMAGE_SIDE: u32 = 8192;

/// Images of at most this many pixels in which no code was read are read again at twice their
/// width and height. A code of less than about four pixels per module, blurred by the
/// browser's scaling, is often found only then; the bound (a 2560 by 1600 screenshot) keeps the
/// second look under about 50 MB.
const UPSCALE_MAX_PIXELS: usize = 1 << 22;

/// The text of every QR code found in an RGBA image, as in the `data` of a canvas `ImageData`:
/// `width * height` pixels of four bytes (red, green, blue, alpha), row by row from the top
/// left.
///
/// Transparent pixels count as white, so a code drawn on a transparent background reads like
/// one on paper. Codes come in the order the decoder finds them; the result is empty when there
/// is none. A code whose payload is not UTF-8 text (a binary QR code) is left out: every link
/// the core reads is text.
///
/// # Errors
///
/// [`Error::InvalidImage`] if `width` or `height` is zero or larger than [`MAX_IMAGE_SIDE`], or
/// if `rgba` is not exactly `width * height * 4` bytes long.
pub fn decode_qr(rgba: &[u8], width: u32, height: u32) -> Result<Vec<String>> {
    let (w, h) = pixels(rgba.len(), width, height, 4)?;
    let grey: Vec<u8> = rgba.chunks_exact(4).map(luma).collect();
    Ok(decode(&grey, w, h))
}

/// The text of every QR code found in a greyscale image of `width * height` bytes, one per
/// pixel (0 black, 255 white), row by row from the top left. Otherwise as [`decode_qr`].
///
/// # Errors
///
/// [`Error::InvalidImage`] if `width` or `height` is zero or larger than [`MAX_IMAGE_SIDE`], or
/// if `luma` is not exactly `width * height` bytes long.
pub fn decode_qr_luma(luma: &[u8], width: u32, height: u32) -> Result<Vec<String>> {
    let (w, h) = pixels(luma.len(), width, height, 1)?;
    Ok(decode(luma, w, h))
}

/// Checks an image's dimensions against its buffer of `len` bytes, `bytes_per_pixel` each.
fn pixels(len: usize, width: u32, height: u32, bytes_per_pixel: usize) -> Result<(usize, usize)> {
    if width == 0 || height == 0 {
        return Err(Error::InvalidImage("the width and height must not be zero"));
    }
    if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(Error::InvalidImage("the image is wider or higher than 8192 pixels"));
    }
    let w = usize::try_from(width).map_err(|_| Error::InvalidImage("the image is too large"))?;
    let h = usize::try_from(height).map_err(|_| Error::InvalidImage("the image is too large"))?;
    // At most 8192 * 8192 * 4 = 2^28 bytes: no overflow even on 32-bit targets.
    let expected = w
        .checked_mul(h)
        .and_then(|n| n.checked_mul(bytes_per_pixel))
        .ok_or(Error::InvalidImage("the image is too large"))?;
    if len != expected {
        return Err(Error::InvalidImage("the pixel buffer does not match the width and height"));
    }
    Ok((w, h))
}

/// Luminance (ITU-R BT.601 weights, in integers) of one RGBA pixel composited over white.
fn luma(px: &[u8]) -> u8 {
    let &[r, g, b, a] = px else { return u8::MAX };
    let [r, g, b, a] = [r, g, b, a].map(u32::from);
    // 77 + 150 + 29 = 256: at most 255 after the shift.
    let y = (77 * r + 150 * g + 29 * b + 128) >> 8;
    // Over white: y * a + 255 * (255 - a), divided by 255 with rounding; at most 255.
    let over_white = (y * a + 255 * (255 - a) + 127) / 255;
    u8::try_from(over_white).unwrap_or(u8::MAX)
}

/// The text codes of a `w` by `h` greyscale image, looking again at twice the size when a small
/// image shows none.
fn decode(luma: &[u8], w: usize, h: usize) -> Vec<String> {
    let found = decode_once(luma, w, h);
    if !found.is_empty() || luma.len() > UPSCALE_MAX_PIXELS {
        return found;
    }
    // Each pixel becomes a 2 by 2 block; at most 2^24 pixels, within the size limits.
    let mut doubled = Vec::with_capacity(luma.len() * 4);
    for row in luma.chunks_exact(w) {
        let wide: Vec<u8> = row.iter().flat_map(|&px| [px, px]).collect();
        doubled.extend_from_slice(&wide);
        doubled.extend_from_slice(&wide);
    }
    decode_once(&doubled, w * 2, h * 2)
}

/// One pass of the decoder over a greyscale image of exactly `w * h` bytes.
fn decode_once(luma: &[u8], w: usize, h: usize) -> Vec<String> {
    quircs::Quirc::new()
        .identify(w, h, luma)
        .filter_map(|code| {
            let data = code.ok()?.decode().ok()?;
            String::from_utf8(data.payload).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luma_weights_and_transparency() {
        assert_eq!(luma(&[0, 0, 0, 255]), 0);
        assert_eq!(luma(&[255, 255, 255, 255]), 255);
        assert_eq!(luma(&[0, 0, 0, 0]), 255, "transparent is white");
        assert_eq!(luma(&[0, 0, 0, 128]), 127, "half-transparent black is mid grey");
        assert!(luma(&[0, 255, 0, 255]) > luma(&[255, 0, 0, 255]));
        assert!(luma(&[255, 0, 0, 255]) > luma(&[0, 0, 255, 255]));
    }

    #[test]
    fn dimensions_are_checked_before_any_work() {
        let bad = |len, w, h| pixels(len, w, h, 4).map_err(|e| e.code());
        assert_eq!(bad(0, 0, 0), Err("invalid_image"));
        assert_eq!(bad(0, 0, 5), Err("invalid_image"));
        assert_eq!(bad(0, 5, 0), Err("invalid_image"));
        assert_eq!(bad(4 * 8193, 8193, 1), Err("invalid_image"));
        assert_eq!(bad(4 * 8193, 1, 8193), Err("invalid_image"));
        assert_eq!(bad(99, 5, 5), Err("invalid_image"));
        assert_eq!(bad(101, 5, 5), Err("invalid_image"));
        assert_eq!(bad(25, 5, 5), Err("invalid_image"));
        assert_eq!(bad(100, 5, 5), Ok((5, 5)));
        assert_eq!(bad(4 * 8192 * 8192, 8192, 8192), Ok((8192, 8192)));
    }
}
