//! The headers every answer carries, defined once and applied as a layer
//! around the whole app. Feature-specific sets (MyPage's, the assets') are
//! layers on their own routers.
//!
//! A set of headers is one layer (`SetHeaders`), not one layer per header:
//! axum clones every layer of a route for each request, and each layer adds
//! a future around the handler's.

use axum::http::{HeaderName, HeaderValue, Response, header};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tower::{Layer, Service};

/// Whether a header replaces what the handler set, or only fills a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Override,
    IfAbsent,
}

/// One header of a set.
#[derive(Debug, Clone)]
pub struct Header {
    pub name: HeaderName,
    pub value: HeaderValue,
    pub rule: Rule,
}

impl Header {
    pub const fn overriding(name: HeaderName, value: &'static str) -> Header {
        Header {
            name,
            value: HeaderValue::from_static(value),
            rule: Rule::Override,
        }
    }

    pub const fn if_absent(name: HeaderName, value: &'static str) -> Header {
        Header {
            name,
            value: HeaderValue::from_static(value),
            rule: Rule::IfAbsent,
        }
    }
}

/// A layer that sets a fixed set of response headers.
#[derive(Debug, Clone, Copy)]
pub struct SetHeaders(pub &'static [Header]);

impl<S> Layer<S> for SetHeaders {
    type Service = SetHeadersService<S>;

    fn layer(&self, inner: S) -> SetHeadersService<S> {
        SetHeadersService {
            inner,
            headers: self.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SetHeadersService<S> {
    inner: S,
    headers: &'static [Header],
}

impl<S, Req, B> Service<Req> for SetHeadersService<S>
where
    S: Service<Req, Response = Response<B>>,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = SetHeadersFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        SetHeadersFuture {
            inner: self.inner.call(req),
            headers: self.headers,
        }
    }
}

pin_project! {
    pub struct SetHeadersFuture<F> {
        #[pin]
        inner: F,
        headers: &'static [Header],
    }
}

impl<F, B, E> Future for SetHeadersFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut res = ready!(this.inner.poll(cx))?;
        let map = res.headers_mut();
        for h in this.headers.iter() {
            match h.rule {
                Rule::Override => {
                    map.insert(h.name.clone(), h.value.clone());
                }
                Rule::IfAbsent => {
                    map.entry(&h.name).or_insert_with(|| h.value.clone());
                }
            }
        }
        Poll::Ready(Ok(res))
    }
}

/// Every answer: never sniffed (a body is what its content type says), and
/// never cached unless the answer says otherwise (answers hold customer
/// data, keys and the MyPage secret; only the content-hashed assets opt
/// out).
pub fn every_answer() -> SetHeaders {
    static HEADERS: [Header; 2] = [
        Header::overriding(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        Header::if_absent(header::CACHE_CONTROL, "no-store"),
    ];
    SetHeaders(&HEADERS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    #[tokio::test]
    async fn overrides_or_fills_gaps_as_each_header_says() {
        static HEADERS: [Header; 3] = [
            Header::overriding(header::X_FRAME_OPTIONS, "DENY"),
            Header::if_absent(header::CACHE_CONTROL, "no-store"),
            Header::if_absent(header::REFERRER_POLICY, "no-referrer"),
        ];
        let handler = tower::service_fn(|_: ()| async {
            Ok::<_, std::convert::Infallible>(
                Response::builder()
                    .header(header::X_FRAME_OPTIONS, "SAMEORIGIN")
                    .header(header::CACHE_CONTROL, "max-age=60")
                    .body(Body::empty())
                    .unwrap(),
            )
        });

        let res = SetHeaders(&HEADERS)
            .layer(handler)
            .oneshot(())
            .await
            .unwrap();

        let h = res.headers();
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::CACHE_CONTROL], "max-age=60");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h.get_all(header::X_FRAME_OPTIONS).iter().count(), 1);
    }
}
