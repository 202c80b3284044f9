//! The headers every answer carries, defined once and applied as a layer
//! around the whole app. Feature-specific sets (MyPage's, the assets') are
//! layers on their own routers.

use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// Never sniffed: a body is what its content type says.
pub fn nosniff() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    )
}

/// Never cached unless the answer says otherwise: answers hold customer
/// data, keys and the MyPage secret. Only the content-hashed assets opt out.
pub fn no_store_by_default() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}
