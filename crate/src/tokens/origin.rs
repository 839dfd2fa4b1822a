//! Web origins as browsers write them (the WHATWG URL Standard's serialization of an http(s)
//! origin): the sites a token's codes may be filled into.

/// Whether `text` is an `http` or `https` origin written exactly as the browser writes the
/// origin of a page there (`new URL(text).origin === text`): `scheme://host`, then `:port`
/// unless it is the scheme's default, nothing else.
///
/// The host is a domain as Chromium and the URL Standard both write it back unchanged: lower
/// case, labels of `a-z 0-9` and ``- _ ! " $ & ' ( ) + , ; = ` { } ~`` (empty labels too), IDNs
/// in their `xn--` form, taken as they are; or an IPv4 address in dotted decimal; or an IPv6
/// address in brackets as RFC 5952 §4 writes it. Percent escapes and `*`, which Chromium keeps
/// or makes in a host (`%20`, `%2A`) and the URL Standard refuses, are refused.
#[must_use]
pub fn is_web_origin(text: &str) -> bool {
    // Byte by byte, without string searching or slicing that could panic: smaller WebAssembly
    // (whose modules have size budgets) than `str`'s searchers and its panic messages.
    let text = text.as_bytes();
    let (rest, default_port) = if let Some(rest) = text.strip_prefix(b"https://") {
        (rest, 443)
    } else if let Some(rest) = text.strip_prefix(b"http://") {
        (rest, 80)
    } else {
        return false;
    };
    let (host_ok, port) = if let Some(inner) = rest.strip_prefix(b"[") {
        let Some((address, after)) = split_at_byte(inner, b']') else { return false };
        (is_canonical_ipv6(address), after)
    } else {
        let colon = rest.iter().position(|&b| b == b':').unwrap_or(rest.len());
        let Some((host, port)) = rest.split_at_checked(colon) else { return false };
        (is_canonical_host(host), port)
    };
    // Nothing after the host, or `:` and a port.
    host_ok
        && (port.is_empty() || port.strip_prefix(b":").is_some_and(|p| is_port(p, default_port)))
}

/// A list of web origins ([`is_web_origin`]) as a stored token holds it: left out or `null`
/// (none), or an array of at most `max` of them, repeats dropped. `None` for anything else.
pub(crate) fn origin_list(value: &crate::value::Value, max: usize) -> Option<Vec<String>> {
    use crate::value::Value;
    let list = match value {
        Value::Undefined | Value::Null => return Some(Vec::new()),
        Value::Array(list) if list.len() <= max => list,
        _ => return None,
    };
    let mut origins: Vec<String> = Vec::with_capacity(list.len());
    for origin in list {
        let origin = origin.as_str().filter(|origin| is_web_origin(origin))?;
        if !origins.iter().any(|known| known == origin) {
            origins.push(origin.into());
        }
    }
    Some(origins)
}

/// The bytes before and after the first `separator`, which is left out.
fn split_at_byte(bytes: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|&b| b == separator)?;
    let (before, after) = bytes.split_at_checked(at)?;
    Some((before, after.get(1..)?))
}

/// A whole decimal number without leading zeros (`0` itself is one), of at most `max`.
fn decimal(digits: &[u8], max: u32) -> Option<u32> {
    if digits.is_empty() || digits.len() > 5 || (digits.len() > 1 && digits.first() == Some(&b'0'))
    {
        return None;
    }
    let mut n = 0u32;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(b - b'0');
    }
    (n <= max).then_some(n)
}

/// A port as serializations write it: decimal without leading zeros, at most 65535, not the
/// scheme's default (which is left out).
fn is_port(digits: &[u8], default_port: u32) -> bool {
    decimal(digits, 65_535).is_some_and(|port| port != default_port)
}

/// A domain or IPv4 host as browsers serialize it. A host whose last label is a number is an
/// IPv4 address to URL parsers (the URL Standard's "ends in a number"), so it must be one in
/// dotted decimal.
fn is_canonical_host(host: &[u8]) -> bool {
    // The last label, after one final dot.
    let name = host.strip_suffix(b".").unwrap_or(host);
    let last = name.rsplit(|&b| b == b'.').next().unwrap_or(name);
    if ends_in_a_number(last) {
        let mut parts = 0;
        return host.split(|&b| b == b'.').all(|part| {
            parts += 1;
            decimal(part, 255).is_some()
        }) && parts == 4;
    }
    !host.is_empty() && host.iter().all(|&b| is_domain_byte(b))
}

/// What a domain may hold and come back unchanged from both Chromium's and the URL Standard's
/// host parsers: ASCII lower-case letters, digits, the dot, and the punctuation neither
/// forbids, escapes nor maps.
fn is_domain_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._!\"$&'()+,;=`{}~".contains(&b)
}

/// The URL Standard's "ends in a number" test of a last label: all decimal digits, or `0x`
/// and hexadecimal digits.
fn ends_in_a_number(label: &[u8]) -> bool {
    match label.strip_prefix(b"0x").or_else(|| label.strip_prefix(b"0X")) {
        Some(digits) => digits.iter().all(u8::is_ascii_hexdigit),
        None => !label.is_empty() && label.iter().all(u8::is_ascii_digit),
    }
}

/// An IPv6 address (without its brackets) written as RFC 5952 §4 and the URL Standard write
/// it: lower-case hexadecimal pieces without leading zeros, the longest run of two or more
/// zero pieces (the first of equal runs) as `::`, no embedded IPv4 form.
fn is_canonical_ipv6(address: &[u8]) -> bool {
    parse_ipv6(address).is_some_and(|pieces| write_ipv6(&pieces) == address)
}

/// The eight pieces of an address of lower-case hexadecimal pieces and at most one `::`.
fn parse_ipv6(address: &[u8]) -> Option<[u16; 8]> {
    // Pieces before `::` fill from the start, those after it from the end.
    let mut head = [0u16; 8];
    let mut tail = [0u16; 8];
    let (mut heads, mut tails) = (0, 0);
    let (before, after) = match address.windows(2).position(|pair| pair == b"::") {
        Some(at) => {
            let (before, after) = address.split_at_checked(at)?;
            (before, Some(after.get(2..)?))
        }
        None => (address, None),
    };
    for (part, pieces, count) in
        [(Some(before), &mut head, &mut heads), (after, &mut tail, &mut tails)]
    {
        let Some(part) = part.filter(|part| !part.is_empty()) else { continue };
        for piece in part.split(|&b| b == b':') {
            if piece.is_empty() || piece.len() > 4 {
                return None;
            }
            let mut value = 0u16;
            for &b in piece {
                let digit = match b {
                    b'0'..=b'9' => b - b'0',
                    b'a'..=b'f' => b - b'a' + 10,
                    _ => return None,
                };
                value = (value << 4) | u16::from(digit);
            }
            *pieces.get_mut(*count)? = value;
            *count += 1;
        }
    }
    // Without `::` all eight are given; with it, it stands for at least one zero piece.
    let fits = if after.is_some() { heads + tails <= 7 } else { heads == 8 };
    if !fits {
        return None;
    }
    let mut out = head;
    for i in 0..tails {
        *out.get_mut(8 - tails + i)? = *tail.get(i)?;
    }
    Some(out)
}

/// The URL Standard's IPv6 serializer (RFC 5952 §4).
fn write_ipv6(pieces: &[u16; 8]) -> Vec<u8> {
    // The first longest run of at least two zero pieces.
    let (mut best, mut best_len) = (8, 1);
    let mut i = 0;
    while i < 8 {
        let run = pieces.iter().skip(i).take_while(|&&p| p == 0).count();
        if run > best_len {
            (best, best_len) = (i, run);
        }
        i += run.max(1);
    }
    let mut out = Vec::with_capacity(39);
    let mut i = 0;
    while i < 8 {
        if i == best {
            out.extend_from_slice(if i == 0 { b"::" } else { b":" });
            i += best_len;
            continue;
        }
        let piece = pieces.get(i).copied().unwrap_or(0);
        // Lower-case hexadecimal without leading zeros.
        let mut started = false;
        for shift in [12, 8, 4, 0] {
            let digit = (piece >> shift) & 0xf;
            if digit != 0 || started || shift == 0 {
                started = true;
                out.push(b"0123456789abcdef".get(usize::from(digit)).copied().unwrap_or(b'0'));
            }
        }
        if i < 7 {
            out.push(b':');
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_as_browsers_write_them_pass() {
        for good in [
            "https://example.com",
            "http://example.com",
            "https://sign-in.example.co.uk",
            "https://xn--bcher-kva.example",
            "https://my_host.local",
            "http://localhost",
            "http://localhost:8080",
            "http://127.0.0.1:5001",
            "https://10.0.0.255",
            "http://0.0.0.0",
            "https://example.com.",
            // Empty labels, punctuation and undecoded xn-- labels come back unchanged.
            "https://example..com",
            "https://.example.com",
            "https://a..",
            "https://.",
            "https://a!b.example",
            "https://a\"b$c&d'e(f)g+h,i;j=k`l{m}n~o.example",
            "https://xn--zz.example",
            "https://-a-.example",
            "https://a.1e",
            "https://0x.example",
            "http://example.com:443",
            "https://example.com:80",
            "https://example.com:0",
            "https://example.com:65535",
            "http://[::1]",
            "http://[::1]:8080",
            "https://[2001:db8::1]",
            "https://[2001:db8:0:1:1:1:1:1]",
            "https://[::]",
            "https://[1::]",
            "https://[2001:0:0:1::1]",
            "https://[fe80::abcd:ef01]",
        ] {
            assert!(is_web_origin(good), "{good}");
        }
    }

    #[test]
    fn anything_the_browser_would_write_otherwise_is_refused() {
        for bad in [
            "",
            "example.com",
            "https://",
            "https://example.com/",
            "https://example.com/path",
            "https://example.com?q",
            "https://example.com#f",
            "https://user@example.com",
            "HTTPS://example.com",
            "https://Example.com",
            "ftp://example.com",
            "chrome-extension://abcdef",
            "file:///etc",
            "https:/example.com",
            "https://exa mple.com",
            "https://exa%41mple.com",
            "https://a%2Ab.example",
            "https://a%20b.example",
            "https://a*b.example",
            "https://a^b.example",
            "https://a|b.example",
            "https://a<b.example",
            "https://a\\b.example",
            "https://bücher.example",
            // Default ports are left out, ports have no leading zeros and fit 16 bits.
            "http://example.com:80",
            "https://example.com:443",
            "https://example.com:",
            "https://example.com:080",
            "https://example.com:65536",
            "https://example.com:99999999999",
            "https://example.com:+1",
            // A host ending in a number is an IPv4 address, written in dotted decimal.
            "http://1.2.3",
            "http://1.2.3.4.5",
            "http://1.2.3.4.",
            "http://01.2.3.4",
            "http://1.2.3.256",
            "http://0x7f.0.0.1",
            "http://example.0x1f",
            "http://example.123",
            "http://example.0x",
            "http://example.09",
            "http://example.1.",
            "http://2130706433",
            // IPv6 as RFC 5952 writes it.
            "http://[::1",
            "http://::1",
            "http://[0:0:0:0:0:0:0:1]",
            "http://[::0:1]",
            "http://[1:0:0:2::3:0]",
            "http://[::01]",
            "http://[::ABCD]",
            "http://[2001:db8::0:1]",
            "http://[2001:db8:0:0:1::1]",
            "http://[1::2::3]",
            "http://[1:2:3:4:5:6:7:8:9]",
            "http://[1:2:3:4:5:6:7::8]",
            "http://[::ffff:1.2.3.4]",
            "http://[fe80::1%eth0]",
            "http://[::1]x",
            "http://[]",
        ] {
            assert!(!is_web_origin(bad), "{bad}");
        }
    }

    #[test]
    fn ipv6_is_written_back_as_the_url_standard_does() {
        for (pieces, text) in [
            ([0u16; 8], "::"),
            ([0, 0, 0, 0, 0, 0, 0, 1], "::1"),
            ([1, 0, 0, 0, 0, 0, 0, 0], "1::"),
            ([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], "2001:db8::1:0:0:1"),
            ([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], "2001:db8:0:1:1:1:1:1"),
            ([1, 0, 2, 0, 3, 0, 4, 0], "1:0:2:0:3:0:4:0"),
        ] {
            assert_eq!(write_ipv6(&pieces), text.as_bytes());
            assert_eq!(parse_ipv6(text.as_bytes()), Some(pieces), "{text}");
        }
    }
}
