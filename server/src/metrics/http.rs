//! Requests by route and status, with latency histograms: recorded by the connection layer
//! ([`crate::serve`]) for every request it answers.
//!
//! The `route` label is the route's template (`/api/dashboard/installs/{install_id}`), never
//! the raw path: a label value per path would let any client grow the server's memory and
//! the operator's time series without bound. A path that matches no route is counted as
//! `unmatched`, and a method outside the standard ones as `OTHER`.
//!
//! The hot routes pay for one hash lookup, two clock reads and three atomic adds: every
//! handle a request touches (its route's histogram, its usual statuses' counters) is
//! resolved once, not looked up by label at each request.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use prometheus::{Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts};
use warp::http::{Method, StatusCode};

/// Latency buckets, in seconds: from 100 µs (a cached token check) to 10 s (a password
/// check that queued).
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Statuses whose counters are resolved in advance for each route; others are looked up by
/// label when they occur.
const USUAL: [u16; 16] = [
    200, 201, 204, 302, 303, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503,
];

/// The route a request was classified as: an index into [`HttpMetrics`]' routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteIndex(usize);

/// Request counters and latency histograms, labelled by method, route and status.
pub struct HttpMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
    /// Literal templates, by path: the methods routed there.
    exact: HashMap<&'static str, Vec<(Method, usize)>>,
    /// Templates with `{parameters}`, split into segments (`None` for a parameter).
    patterns: Vec<(Method, Vec<Option<&'static str>>, usize)>,
    routes: Vec<Route>,
}

/// One `(method, template)` and its handles.
struct Route {
    method: &'static str,
    template: &'static str,
    duration: Histogram,
    usual: [OnceLock<IntCounter>; USUAL.len()],
}

impl HttpMetrics {
    /// Metrics for the routes `(method, template)`; templates name parameters `{like_this}`.
    pub fn new(routes: &[(&'static str, &'static str)]) -> prometheus::Result<HttpMetrics> {
        let requests = IntCounterVec::new(
            Opts::new(
                "atrium_http_requests_total",
                "HTTP requests answered, by method, route template and status",
            ),
            &["method", "route", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "atrium_http_request_duration_seconds",
                "Time from a request's head to its response's head, by method and route template",
            )
            .buckets(BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        let mut metrics = HttpMetrics {
            requests,
            duration,
            exact: HashMap::new(),
            patterns: Vec::new(),
            routes: Vec::new(),
        };
        for &(method, template) in routes {
            metrics.add(method, template)?;
        }
        // The catch-all, last: `unmatched` under each standard method, and one for the rest.
        for method in STANDARD_METHODS {
            metrics.push(method.as_str_static(), UNMATCHED)?;
        }
        metrics.push(OTHER_METHOD, UNMATCHED)?;
        Ok(metrics)
    }

    fn add(&mut self, method: &'static str, template: &'static str) -> prometheus::Result<()> {
        let parsed = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|e| prometheus::Error::Msg(format!("{method} {template}: {e}")))?;
        let index = self.push(standard_name(&parsed), template)?;
        if template.contains('{') {
            let segments = segments(template)
                .map(|s| (!s.starts_with('{')).then_some(s))
                .collect();
            self.patterns.push((parsed, segments, index));
        } else {
            self.exact
                .entry(template)
                .or_default()
                .push((parsed, index));
        }
        Ok(())
    }

    fn push(&mut self, method: &'static str, template: &'static str) -> prometheus::Result<usize> {
        let duration = self
            .duration
            .get_metric_with_label_values(&[method, template])?;
        self.routes.push(Route {
            method,
            template,
            duration,
            usual: Default::default(),
        });
        Ok(self.routes.len() - 1)
    }

    /// The route `method path` is counted under.
    pub fn classify(&self, method: &Method, path: &str) -> RouteIndex {
        if let Some(candidates) = self.exact.get(path) {
            if let Some(&(_, i)) = candidates.iter().find(|(m, _)| m == method) {
                return RouteIndex(i);
            }
        } else if let Some(i) = self.matching_pattern(method, path) {
            return RouteIndex(i);
        }
        RouteIndex(self.unmatched(method))
    }

    fn matching_pattern(&self, method: &Method, path: &str) -> Option<usize> {
        self.patterns
            .iter()
            .find(|(m, template, _)| {
                m == method && {
                    let mut given = segments(path);
                    template.iter().all(|want| match (want, given.next()) {
                        (Some(literal), Some(seg)) => *literal == seg,
                        (None, Some(seg)) => !seg.is_empty(),
                        (_, None) => false,
                    }) && given.next().is_none()
                }
            })
            .map(|&(_, _, i)| i)
    }

    /// The index of the `unmatched` route of `method` (they are the last routes).
    fn unmatched(&self, method: &Method) -> usize {
        let first = self.routes.len() - STANDARD_METHODS.len() - 1;
        let offset = STANDARD_METHODS
            .iter()
            .position(|m| m == method)
            .unwrap_or(STANDARD_METHODS.len());
        first + offset
    }

    /// Counts one answered request.
    pub fn record(&self, route: RouteIndex, status: StatusCode, elapsed: Duration) {
        let Some(r) = self.routes.get(route.0) else {
            return;
        };
        r.duration.observe(elapsed.as_secs_f64());
        let code = status.as_u16();
        match USUAL.iter().position(|&u| u == code) {
            Some(i) => r.usual[i].get_or_init(|| self.counter(r, status)).inc(),
            None => self.counter(r, status).inc(),
        }
    }

    fn counter(&self, r: &Route, status: StatusCode) -> IntCounter {
        self.requests
            .with_label_values(&[r.method, r.template, status.as_str()])
    }

    /// The method and template of a route, for logs.
    pub fn describe(&self, route: RouteIndex) -> (&'static str, &'static str) {
        self.routes
            .get(route.0)
            .map_or((OTHER_METHOD, UNMATCHED), |r| (r.method, r.template))
    }

    pub(super) fn collectors(&self) -> [Box<dyn prometheus::core::Collector>; 2] {
        [
            Box::new(self.requests.clone()),
            Box::new(self.duration.clone()),
        ]
    }
}

const UNMATCHED: &str = "unmatched";
const OTHER_METHOD: &str = "OTHER";

const STANDARD_METHODS: [Method; 9] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::OPTIONS,
    Method::CONNECT,
    Method::TRACE,
];

/// The `'static` name of a standard method, `OTHER` for the rest.
fn standard_name(method: &Method) -> &'static str {
    STANDARD_METHODS
        .iter()
        .find(|m| *m == method)
        .map_or(OTHER_METHOD, |m| m.as_str_static())
}

trait StaticName {
    fn as_str_static(&self) -> &'static str;
}

impl StaticName for Method {
    fn as_str_static(&self) -> &'static str {
        match *self {
            Method::GET => "GET",
            Method::HEAD => "HEAD",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::DELETE => "DELETE",
            Method::PATCH => "PATCH",
            Method::OPTIONS => "OPTIONS",
            Method::CONNECT => "CONNECT",
            Method::TRACE => "TRACE",
            _ => OTHER_METHOD,
        }
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.strip_prefix('/').unwrap_or(path).split('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> HttpMetrics {
        HttpMetrics::new(&[
            ("get", "/api/username"),
            ("get", "/api/dashboard/companies"),
            ("post", "/api/dashboard/companies"),
            ("get", "/api/dashboard/companies/{company_id}/members"),
            ("delete", "/api/dashboard/installs/{install_id}"),
        ])
        .expect("valid routes")
    }

    fn name(m: &HttpMetrics, method: Method, path: &str) -> (&'static str, &'static str) {
        m.describe(m.classify(&method, path))
    }

    #[test]
    fn paths_are_counted_under_their_template_and_method() {
        let m = table();
        assert_eq!(
            name(&m, Method::GET, "/api/username"),
            ("GET", "/api/username")
        );
        assert_eq!(
            name(&m, Method::POST, "/api/dashboard/companies"),
            ("POST", "/api/dashboard/companies")
        );
        assert_eq!(
            name(&m, Method::GET, "/api/dashboard/companies/42/members"),
            ("GET", "/api/dashboard/companies/{company_id}/members")
        );
        assert_eq!(
            name(&m, Method::DELETE, "/api/dashboard/installs/7"),
            ("DELETE", "/api/dashboard/installs/{install_id}")
        );
    }

    #[test]
    fn anything_else_is_unmatched_so_labels_stay_bounded() {
        let m = table();
        for (method, path) in [
            (Method::GET, "/api/dashboard/companies/42/members/9"),
            (Method::GET, "/api/dashboard/companies//members"),
            (Method::GET, "/nope"),
            (Method::PUT, "/api/username"),
            (Method::GET, "/api/dashboard/installs/7"),
        ] {
            assert_eq!(
                name(&m, method.clone(), path).1,
                UNMATCHED,
                "{method} {path}"
            );
        }
        let odd = Method::from_bytes(b"BREW").expect("a method");
        assert_eq!(name(&m, odd, "/api/username"), (OTHER_METHOD, UNMATCHED));
    }

    #[test]
    fn records_land_under_their_labels() {
        let m = table();
        let route = m.classify(&Method::GET, "/api/username");
        m.record(route, StatusCode::OK, Duration::from_micros(50));
        m.record(route, StatusCode::OK, Duration::from_micros(70));
        m.record(route, StatusCode::IM_A_TEAPOT, Duration::from_micros(70));
        let ok = m
            .requests
            .with_label_values(&["GET", "/api/username", "200"])
            .get();
        let teapot = m
            .requests
            .with_label_values(&["GET", "/api/username", "418"])
            .get();
        assert_eq!((ok, teapot), (2, 1));
        let h = m
            .duration
            .with_label_values(&["GET", "/api/username"])
            .get_sample_count();
        assert_eq!(h, 3);
    }
}
