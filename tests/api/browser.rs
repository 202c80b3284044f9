//! A browser's part in dashboard tests: a cookie jar, forms posted with the
//! page's CSRF token and our own Origin, redirects left for the test to see.

#![allow(dead_code)]

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderMap, ORIGIN, REFERER};
use scraper::{Html, Selector};

use crate::helpers::TestApp;

/// A page as the browser got it.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    pub fn doc(&self) -> Html {
        Html::parse_document(&self.html)
    }

    /// The text of every element `selector` matches, whitespace collapsed.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        let sel = Selector::parse(selector).expect("selector");
        self.doc()
            .select(&sel)
            .map(|e| {
                e.text()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    /// The attribute `attr` of every element `selector` matches that has it.
    pub fn attrs(&self, selector: &str, attr: &str) -> Vec<String> {
        let sel = Selector::parse(selector).expect("selector");
        self.doc()
            .select(&sel)
            .filter_map(|e| e.value().attr(attr).map(str::to_owned))
            .collect()
    }

    /// The identifications a dashboard table lists, in its order: each
    /// row's whole id, which its shortened one carries as a title.
    pub fn listed_ids(&self) -> Vec<String> {
        self.attrs("tbody td.id code", "title")
    }

    /// All the page's text, whitespace collapsed.
    pub fn text(&self) -> String {
        self.texts("body").join(" ")
    }

    /// The `location` of a redirect.
    pub fn location(&self) -> Option<String> {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The form whose submit button reads `button`: where it posts and
    /// every named field it sends (hidden ones included).
    pub fn form(&self, button: &str) -> Option<(String, Vec<(String, String)>)> {
        let forms = Selector::parse("form").expect("selector");
        let buttons = Selector::parse("button[type=submit]").expect("selector");
        let inputs = Selector::parse("input[name]").expect("selector");
        let doc = self.doc();
        let form = doc.select(&forms).find(|f| {
            f.select(&buttons)
                .any(|b| b.text().collect::<String>().trim() == button)
        })?;
        let action = form.value().attr("action")?.to_owned();
        let fields = form
            .select(&inputs)
            .filter_map(|i| {
                let name = i.value().attr("name")?.to_owned();
                Some((name, i.value().attr("value").unwrap_or_default().to_owned()))
            })
            .collect();
        Some((action, fields))
    }

    /// The `href` of every link `selector` matches.
    pub fn hrefs(&self, selector: &str) -> Vec<String> {
        let sel = Selector::parse(selector).expect("selector");
        self.doc()
            .select(&sel)
            .filter_map(|e| e.value().attr("href").map(str::to_owned))
            .collect()
    }

    /// The CSRF token in the page's forms.
    pub fn csrf(&self) -> Option<String> {
        let sel = Selector::parse(r#"input[name="csrf"]"#).expect("selector");
        self.doc()
            .select(&sel)
            .next()
            .and_then(|e| e.value().attr("value"))
            .map(str::to_owned)
    }
}

pub struct Browser {
    pub client: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub base: String,
    /// The token from the last page that had one.
    pub csrf: Option<String>,
    /// The last page's URL, sent as Referer.
    pub last_url: Option<String>,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Browser {
            jar: jar.clone(),
            client: reqwest::Client::builder()
                .cookie_provider(jar)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: base.to_owned(),
            csrf: None,
            last_url: None,
        }
    }

    async fn page(res: reqwest::Response) -> Page {
        Page {
            status: res.status(),
            headers: res.headers().clone(),
            html: res.text().await.expect("body"),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let url = format!("{}{path}", self.base);
        let res = self
            .client
            .get(&url)
            .header(ACCEPT, "text/html")
            .send()
            .await
            .expect("GET");
        let page = Browser::page(res).await;
        if let Some(token) = page.csrf() {
            self.csrf = Some(token);
        }
        self.last_url = Some(url);
        page
    }

    /// Posts a form as a browser would from our page: Origin and Referer
    /// ours, the page's CSRF token added.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let origin = self.base.clone();
        let token = self.csrf.clone();
        self.post_with(path, fields, Some(&origin), token.as_deref())
            .await
    }

    /// Posts a form with exactly this Origin (none: no Origin and no
    /// Referer) and this CSRF token (none: no field).
    pub async fn post_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
        csrf: Option<&str>,
    ) -> Page {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        if let Some(token) = csrf {
            form.push(("csrf", token));
        }
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(ACCEPT, "text/html")
            .form(&form);
        if let Some(origin) = origin {
            req = req.header(ORIGIN, origin);
            if let Some(referer) = &self.last_url {
                req = req.header(REFERER, referer);
            }
        }
        Browser::page(req.send().await.expect("POST")).await
    }

    /// Posts `body` exactly as given (already form-encoded, or not), with
    /// our Origin and the page's CSRF token appended.
    pub async fn post_raw(&mut self, path: &str, body: &str) -> Page {
        let token = self.csrf.clone().unwrap_or_default();
        let body = if body.is_empty() {
            format!("csrf={token}")
        } else {
            format!("{body}&csrf={token}")
        };
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(ACCEPT, "text/html")
            .header(ORIGIN, self.base.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        let req = match &self.last_url {
            Some(referer) => req.header(REFERER, referer),
            None => req,
        };
        Browser::page(req.send().await.expect("POST")).await
    }

    /// Submits `page`'s form whose button reads `button`, exactly as the page
    /// has it (its own CSRF field included), as a browser would from it.
    pub async fn submit(&mut self, page: &Page, button: &str) -> Page {
        let (action, fields) = page
            .form(button)
            .unwrap_or_else(|| panic!("no form with a {button:?} button in {}", page.html));
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let origin = self.base.clone();
        self.post_with(&action, &fields, Some(&origin), None).await
    }

    /// Signs in through the form; the answer to the form post.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        self.get("/dashboard/login").await;
        self.post(
            "/dashboard/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// The session cookie's value, if the jar holds one for the dashboard.
    pub fn session_cookie(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = format!("{}/dashboard", self.base).parse().ok()?;
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|c| c.strip_prefix("proofme_dashboard="))
            .map(str::to_owned)
    }

    /// Replaces the jar's session cookie (as a stolen or planted one would).
    pub fn set_session_cookie(&self, value: &str) {
        if let Ok(url) = format!("{}/dashboard", self.base).parse() {
            self.jar
                .add_cookie_str(&format!("proofme_dashboard={value}; Path=/dashboard"), &url);
        }
    }
}

pub const PASSWORD: &str = "a long enough password";

impl TestApp {
    /// A dashboard user of `org_id` with `PASSWORD`; its id.
    pub async fn create_user(&self, org_id: &str, email: &str) -> String {
        let hash = proofme::dashboard::password::hash(PASSWORD.to_owned())
            .await
            .expect("hash");
        let org = proofme::domain::OrganisationId::parse(org_id).expect("org id");
        self.store
            .create_user(&org, email, &hash)
            .await
            .expect("user")
            .id
            .as_str()
            .to_owned()
    }

    /// A browser signed in as a new user of the test organisation.
    pub async fn signed_in(&self) -> Browser {
        let email = format!("ann-{}@example.com", proofme::domain::ids::random_base62(8));
        self.create_user(&self.org_id, &email).await;
        let mut browser = Browser::new(&self.address);
        let answer = browser.sign_in(&email, PASSWORD).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.html);
        browser.get("/dashboard").await;
        browser
    }
}
