//! The participant's self-assessment through the real router: a one-time link, the
//! questionnaire in the participant's language, scores stored as assessments.

mod support;

use axum::http::StatusCode;
use iip_web::router;
use support::{add_user, csrf, send, sign_in};

#[tokio::test]
async fn a_participant_answers_in_vietnamese_once_and_the_pathway_shows_the_scores() {
    let (state, store, _dir) = support::state(300).await;
    add_user(&store, "worker@test.iip", "case_worker", "south-bay-adult-school").await;
    add_user(&store, "other@test.iip", "case_worker", "north-bay-adult-school").await;
    let router = router(state);
    let worker = sign_in(&router, "worker@test.iip").await;
    let token = csrf(&router, &worker).await;
    let intake = format!("csrf={token}&participant_id=sa-1&first_name=Thao&primary_language=vi");
    assert_eq!(
        send(&router, "POST", "/participants", Some(&worker), Some(&intake))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let pathway = send(&router, "GET", "/participants/sa-1", Some(&worker), None).await;
    assert!(
        pathway.body.contains("<option value=\"vi\" selected>"),
        "the participant's language is offered first"
    );

    let made = send(
        &router,
        "POST",
        "/participants/sa-1/self-assessment",
        Some(&worker),
        Some(&format!("csrf={token}&lang=vi")),
    )
    .await;
    assert_eq!(made.status, StatusCode::OK);
    assert!(made.body.contains("role=\"img\" aria-label=\"QR code"), "a QR code");
    assert!(!made.body.contains("style="), "no inline style for the CSP to block");
    let link = made
        .body
        .replace("&#x2f;", "/")
        .split("href=\"http://localhost/s/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the link")
        .replace("&amp;", "&");
    let (secret, query) = link.split_once('?').expect("a language in the link");
    assert_eq!(query, "lang=vi");
    assert_eq!(secret.len(), 64);

    // Another organization's case worker cannot make links for this participant.
    let other = sign_in(&router, "other@test.iip").await;
    let other_token = csrf(&router, &other).await;
    let refused = send(
        &router,
        "POST",
        "/participants/sa-1/self-assessment",
        Some(&other),
        Some(&format!("csrf={other_token}")),
    )
    .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    // The participant: no account, Vietnamese.
    let page = send(&router, "GET", &format!("/s/{link}"), None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<html lang=\"vi\">") && page.body.contains("Tự đánh giá"));
    assert!(!page.body.contains("Thao"), "no name on the participant's page");
    let questions: Vec<String> = page
        .body
        .split("type=\"radio\" name=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_owned))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(questions.len(), iip_i18n::QUESTIONS.len());
    // One answer missing: asked again, in Vietnamese, with the others kept.
    let partial: String = questions[1..].iter().map(|q| format!("{q}=2&")).collect::<String>() + "lang=vi";
    let again = send(&router, "POST", &format!("/s/{secret}"), None, Some(&partial)).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("Xin vui lòng trả lời tất cả"), "{}", again.body);
    // Every answer 2 of 4: each element scores 0.5 and so does the whole.
    let all: String = questions.iter().map(|q| format!("{q}=2&")).collect::<String>() + "lang=vi";
    let done = send(&router, "POST", &format!("/s/{secret}"), None, Some(&all)).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Xin cảm ơn"), "{}", done.body);
    // Once only.
    let used = send(&router, "GET", &format!("/s/{link}"), None, None).await;
    assert_eq!(used.status, StatusCode::NOT_FOUND);
    assert!(used.body.contains("đã hết hạn hoặc đã được sử dụng"));
    let replay = send(&router, "POST", &format!("/s/{secret}"), None, Some(&all)).await;
    assert_eq!(replay.status, StatusCode::NOT_FOUND);
    assert_eq!(
        send(&router, "GET", "/s/not-a-token", None, None).await.status,
        StatusCode::NOT_FOUND
    );

    let pathway = send(&router, "GET", "/participants/sa-1", Some(&worker), None).await;
    assert!(
        pathway.body.contains("Self-assessment overall: 50%"),
        "{}",
        pathway.body
    );
    assert_eq!(
        pathway.body.matches("Self-assessment: 50% on").count(),
        8,
        "every element"
    );
}

#[tokio::test]
async fn the_questionnaire_follows_the_browser_language_and_every_language_renders() {
    let (state, store, _dir) = support::state(300).await;
    add_user(&store, "worker@test.iip", "case_worker", "south-bay-adult-school").await;
    let router = router(state);
    let worker = sign_in(&router, "worker@test.iip").await;
    let token = csrf(&router, &worker).await;
    let intake = format!("csrf={token}&participant_id=sa-2");
    send(&router, "POST", "/participants", Some(&worker), Some(&intake)).await;
    let made = send(
        &router,
        "POST",
        "/participants/sa-2/self-assessment",
        Some(&worker),
        Some(&format!("csrf={token}")),
    )
    .await;
    let secret: String = made
        .body
        .replace("&#x2f;", "/")
        .split("href=\"http://localhost/s/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the link")
        .to_owned();
    let request = axum::http::Request::get(format!("/s/{secret}"))
        .header("accept-language", "es-MX,es;q=0.9,en;q=0.5")
        .body(axum::body::Body::empty())
        .expect("request");
    let response = tower::ServiceExt::oneshot(router.clone(), request)
        .await
        .expect("response");
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
    assert!(String::from_utf8_lossy(&body).contains("<html lang=\"es\">"));
    for (code, _) in iip_i18n::LANGUAGES {
        let page = send(&router, "GET", &format!("/s/{secret}?lang={code}"), None, None).await;
        assert_eq!(page.status, StatusCode::OK, "{code}");
        assert!(page.body.contains(&format!("<html lang=\"{code}\">")), "{code}");
        assert!(
            !page.body.contains("<legend>sa-"),
            "{code}: every question is translated"
        );
        assert_eq!(
            page.body.matches("<legend>").count(),
            iip_i18n::QUESTIONS.len(),
            "{code}"
        );
    }
}
