//! Helpers of the tenant sweep: the router's routes read from its source (so a route added
//! without a declared policy fails the sweep), and requests with any body type.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

/// One token of Rust source, as far as the route parser needs: identifiers, string literals
/// and single punctuation characters. Comments and whitespace are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Str(String),
    Punct(char),
}

fn tokenize(source: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0usize;
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (Some('/'), Some('*')) => {
                        depth += 1;
                        i += 2;
                    }
                    (Some('*'), Some('/')) => {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    }
                    (Some(_), _) => i += 1,
                    (None, _) => return Err("an unterminated block comment".into()),
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                // `r#ident` or plain `r` followed by something else.
                tokens.push(Token::Ident("r".into()));
                i += 1;
                continue;
            }
            j += 1;
            let start = j;
            loop {
                if j >= chars.len() {
                    return Err("an unterminated raw string".into());
                }
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    break;
                }
                j += 1;
            }
            tokens.push(Token::Str(chars[start..j].iter().collect()));
            i = j + 1 + hashes;
        } else if c == '"' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    Some('\\') => {
                        if let Some(escaped) = chars.get(i + 1) {
                            text.push(*escaped);
                        }
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(other) => {
                        text.push(*other);
                        i += 1;
                    }
                    None => return Err("an unterminated string".into()),
                }
            }
            tokens.push(Token::Str(text));
        } else if c == '\'' {
            // A char literal ('x', '\n', '\'') or a lifetime ('a, 'static).
            if next == Some('\\') {
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                // '\'' : the escaped quote itself.
                if j == i + 2 {
                    j += 1;
                    while j < chars.len() && chars[j] != '\'' {
                        j += 1;
                    }
                }
                i = j + 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    Ok(tokens)
}

fn opens(t: &Token) -> bool {
    matches!(t, Token::Punct('(' | '[' | '{'))
}

fn closes(t: &Token) -> bool {
    matches!(t, Token::Punct(')' | ']' | '}'))
}

/// The index just past the group that opens at `open` (a `(`, `[` or `{`).
fn group_end(tokens: &[Token], open: usize) -> Result<usize, String> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        if opens(t) {
            depth += 1;
        } else if closes(t) {
            depth = depth.checked_sub(1).ok_or("an unbalanced bracket")?;
            if depth == 0 {
                return Ok(i + 1);
            }
        }
    }
    Err("an unclosed bracket".into())
}

/// HTTP methods an axum method router can be built with.
const METHODS: [&str; 9] = [
    "get", "post", "put", "patch", "delete", "head", "options", "trace", "connect",
];

/// Calls on a method router that add no method.
const NEUTRAL: [&str; 2] = ["layer", "route_layer"];

/// Every `(METHOD, path)` the `router` function of `source` registers, in source order.
/// Refuses what it cannot read for sure (a nested or merged router, a method router that is
/// not a plain chain of `get(…).post(…)`), so that nothing escapes the policy check.
pub fn router_routes(source: &str) -> Result<Vec<(String, String)>, String> {
    let tokens = tokenize(source)?;
    // `fn router` … its body in braces.
    let start = tokens
        .windows(2)
        .position(|w| w[0] == Token::Ident("fn".into()) && w[1] == Token::Ident("router".into()))
        .ok_or("no `fn router` in the source")?;
    let body_open = (start..tokens.len())
        .find(|&i| tokens[i] == Token::Punct('{'))
        .ok_or("`fn router` has no body")?;
    let body_end = group_end(&tokens, body_open)?;
    let body = &tokens[body_open..body_end];
    let mut routes = Vec::new();
    let mut i = 0;
    while i + 2 < body.len() {
        let is_call = |name: &str| {
            body[i] == Token::Punct('.') && body[i + 1] == Token::Ident(name.into()) && body[i + 2] == Token::Punct('(')
        };
        for unsupported in ["nest", "nest_service", "merge", "route_service", "fallback_service"] {
            if is_call(unsupported) {
                return Err(format!(
                    "`.{unsupported}(…)` in `router`: the sweep cannot read its routes; declare them with `.route`"
                ));
            }
        }
        if !is_call("route") {
            i += 1;
            continue;
        }
        let open = i + 2;
        let end = group_end(body, open)?;
        let args = &body[open + 1..end - 1];
        let Some(Token::Str(path)) = args.first() else {
            return Err(format!(
                "a `.route(` whose path is not a string literal: {:?}",
                args.first()
            ));
        };
        if args.get(1) != Some(&Token::Punct(',')) {
            return Err(format!("route {path}: no method router after the path"));
        }
        let methods = method_chain(&args[2..]).map_err(|e| format!("route {path}: {e}"))?;
        for method in methods {
            routes.push((method.to_uppercase(), path.clone()));
        }
        i = end;
    }
    if routes.is_empty() {
        return Err("no `.route(` calls in `router`".into());
    }
    Ok(routes)
}

/// The methods of `get(h).post(h)`-like chains (paths such as `routing::get` allowed).
fn method_chain(tokens: &[Token]) -> Result<Vec<String>, String> {
    let mut methods = Vec::new();
    let mut i = 0;
    let mut expect_call = true;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Punct(',') if i + 1 == tokens.len() => break, // trailing comma
            Token::Punct('.') if !expect_call => {
                expect_call = true;
                i += 1;
            }
            Token::Ident(name) if expect_call => {
                // Skip a path prefix: `axum::routing::get`.
                if tokens.get(i + 1) == Some(&Token::Punct(':')) && tokens.get(i + 2) == Some(&Token::Punct(':')) {
                    i += 3;
                    continue;
                }
                if tokens.get(i + 1) != Some(&Token::Punct('(')) {
                    return Err(format!("`{name}` is not a call of a method router"));
                }
                if METHODS.contains(&name.as_str()) {
                    methods.push(name.clone());
                } else if !NEUTRAL.contains(&name.as_str()) {
                    return Err(format!("`{name}(…)`: not a method the sweep knows (get, post, …)"));
                }
                i = group_end(tokens, i + 1)?;
                expect_call = false;
            }
            other => return Err(format!("unexpected {other:?} in the method router")),
        }
    }
    if methods.is_empty() {
        return Err("no method (get, post, …)".into());
    }
    Ok(methods)
}

/// A response, its body as text.
pub struct Reply {
    pub status: StatusCode,
    pub location: String,
    pub headers: String,
    pub body: String,
}

/// A request body and its content type.
pub enum Payload {
    Empty,
    Form(String),
    Json(String),
}

pub async fn request(router: &axum::Router, method: &str, uri: &str, cookie: Option<&str>, payload: Payload) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let body = match payload {
        Payload::Empty => Body::empty(),
        Payload::Form(form) => {
            request = request.header("content-type", "application/x-www-form-urlencoded");
            Body::from(form)
        }
        Payload::Json(json) => {
            request = request.header("content-type", "application/json");
            Body::from(json)
        }
    };
    let response = router
        .clone()
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())))
        .collect();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await.expect("body");
    Reply {
        status,
        location,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_spread_over_lines_with_comments_and_strings_are_read() {
        let source = r#"
            fn helper() { let _ = Router::new().route("/not-this", get(x)); }
            pub fn router<S: Store>(state: AppState<S>) -> Router {
                let mut router = Router::new()
                    // .route("/commented", get(x))
                    .route("/", get(pages::dashboard::<S>))
                    .route(
                        "/a/{id}",
                        get(a::view::<S>)
                            .post(a::change::<S>), // "a ) in a comment"
                    )
                    .route("/h", axum::routing::get(|| async { ")" }).layer(x))
                    /* .route("/block", post(y)) */
                    .route("/c", post(|c: char| async move { c == ')' }));
                router = router.route("/late", delete(d));
                router
            }
            fn router_other() { let _ = Router::new().route("/nor-this", get(x)); }
        "#;
        let routes = router_routes(source).expect("routes");
        let pairs: Vec<(&str, &str)> = routes.iter().map(|(m, p)| (m.as_str(), p.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("GET", "/"),
                ("GET", "/a/{id}"),
                ("POST", "/a/{id}"),
                ("GET", "/h"),
                ("POST", "/c"),
                ("DELETE", "/late"),
            ]
        );
    }

    #[test]
    fn what_cannot_be_read_for_sure_is_refused() {
        for source in [
            r#"fn router() { Router::new().nest("/x", other()) }"#,
            r#"fn router() { Router::new().route("/x", on(MethodFilter::GET, h)) }"#,
            r#"fn router() { Router::new().route("/x", methods) }"#,
            r#"fn router() { Router::new().route(PATH, get(h)) }"#,
            r#"fn router() { Router::new() }"#,
        ] {
            assert!(router_routes(source).is_err(), "{source}");
        }
    }
}
