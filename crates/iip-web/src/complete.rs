//! Writes run to the end even when their client goes away.
//!
//! hyper drops a request's future when its connection closes. A write dropped between its
//! commit and the step after it (applying its fact to the metrics snapshot, recording an
//! audit entry of the outcome) would leave the store ahead of the server's view of it, and
//! the next metrics request would rebuild the snapshot from the whole store. So a request
//! that may change something runs as its own task, which the connection cannot cancel.

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Runs every request but a safe one (GET, HEAD, OPTIONS) as a task of its own.
pub async fn writes_to_completion(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(e) => crate::WebError::Internal(format!("request task: {e}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use axum::routing::{get, post};
    use tower::ServiceExt;

    use super::*;

    fn router(done: Arc<AtomicBool>) -> Router {
        let slow = move || {
            let done = Arc::clone(&done);
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                done.store(true, Ordering::SeqCst);
                "done"
            }
        };
        Router::new()
            .route("/write", post(slow.clone()))
            .route("/read", get(slow))
            .layer(axum::middleware::from_fn(writes_to_completion))
    }

    async fn abandon(router: Router, request: axum::http::Request<Body>) {
        let call = router.oneshot(request);
        assert!(
            tokio::time::timeout(Duration::from_millis(5), call).await.is_err(),
            "the client gave up before the answer"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    #[tokio::test]
    async fn a_write_whose_client_went_away_still_finishes() {
        let done = Arc::new(AtomicBool::new(false));
        let request = axum::http::Request::post("/write")
            .body(Body::empty())
            .expect("request");
        abandon(router(Arc::clone(&done)), request).await;
        assert!(done.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_read_whose_client_went_away_is_dropped() {
        let done = Arc::new(AtomicBool::new(false));
        let request = axum::http::Request::get("/read").body(Body::empty()).expect("request");
        abandon(router(Arc::clone(&done)), request).await;
        assert!(!done.load(Ordering::SeqCst));
    }
}
