//! The wallet link (OpenID4VP request by reference) and its QR code.
//!
//! Drawing the QR SVG was most of a page's cost, and an identification's link
//! never changes, so each SVG is made once and kept in a bounded cache.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use qrcode::{Color, QrCode};

use std::fmt::Write;
use std::sync::Arc;

use crate::domain::IdentificationId;

/// What must be escaped in a query value. `:` and `/` may stay, which keeps the
/// link, and so the QR code, small.
const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// `openid4vp://?client_id=…&request_uri=<public URL>/oid4vp/request/{id}`: the
/// one place the link is built, for the QR code and the button alike.
pub fn wallet_link(public_url: &str, client_id: &str, id: &IdentificationId) -> String {
    let request_uri = format!("{public_url}/oid4vp/request/{id}");
    format!(
        "openid4vp://?client_id={}&request_uri={}",
        utf8_percent_encode(client_id, QUERY_VALUE),
        utf8_percent_encode(&request_uri, QUERY_VALUE)
    )
}

/// An SVG of `data` as a QR code, ready to inline. One unit is one module,
/// and each row's dark runs are one path segment: about a third of the size
/// of drawing module by module. `None` only if `data` is too long for any QR.
pub fn render_svg(data: &str) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    const QUIET: usize = 4;
    let size = width + 2 * QUIET;
    let mut path = String::with_capacity(width * width / 2);
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                let _ = write!(
                    path,
                    "M{} {}h{}v1H{}z",
                    start + QUIET,
                    y + QUIET,
                    x - start,
                    start + QUIET
                );
            } else {
                x += 1;
            }
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         shape-rendering=\"crispEdges\" aria-hidden=\"true\" focusable=\"false\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path fill=\"#111827\" d=\"{path}\"/></svg>"
    ))
}

/// Drawn QR codes by identification, at most `capacity` of them.
pub struct QrCache(moka::sync::Cache<IdentificationId, Arc<str>>);

impl QrCache {
    pub fn new(capacity: u64) -> QrCache {
        QrCache(moka::sync::Cache::new(capacity))
    }

    /// The cached SVG, or a fresh one.
    pub fn get_or_render(&self, id: &IdentificationId, link: &str) -> Option<Arc<str>> {
        if let Some(svg) = self.0.get(id) {
            return Some(svg);
        }
        let svg: Arc<str> = render_svg(link)?.into();
        self.0.insert(id.clone(), svg.clone());
        Some(svg)
    }

    /// How many codes are held, once pending evictions have run.
    pub fn len(&self) -> usize {
        self.0.run_pending_tasks();
        usize::try_from(self.0.entry_count()).unwrap_or(usize::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wallet_link_is_an_openid4vp_request_by_reference() {
        let id = IdentificationId::parse("id_abcdefghijklmnopqrstuv").unwrap();
        let link = wallet_link("https://pay.example.com", "x509_hash:Uv-3_x", &id);
        assert_eq!(
            link,
            "openid4vp://?client_id=x509_hash:Uv-3_x\
             &request_uri=https://pay.example.com/oid4vp/request/id_abcdefghijklmnopqrstuv"
        );
    }

    #[test]
    fn svgs_are_inline_ready() {
        let svg = render_svg("openid4vp://?x=1").unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("<path fill="));
    }

    #[test]
    fn the_cache_draws_once_and_stays_bounded() {
        let cache = QrCache::new(2);
        let ids: Vec<_> = (0..3).map(|_| IdentificationId::generate()).collect();
        let first = cache.get_or_render(&ids[0], "a").unwrap();
        let again = cache.get_or_render(&ids[0], "a").unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        cache.get_or_render(&ids[1], "b");
        cache.get_or_render(&ids[2], "c");
        assert!(cache.len() <= 2);
        assert!(cache.get_or_render(&ids[2], "c").is_some());
    }
}
