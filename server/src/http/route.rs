//! One entry of the route table: who may call it, what it takes and
//! returns (for the OpenAPI document), and its handler.

use crate::http::AppState;
use axum::http::Method;
use axum::routing::MethodRouter;
use tandem_protocol::rbac::Permission;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Anyone,
    SignedIn,
    /// A registered agent, authenticated by its device key.
    Device,
    Needs(Permission),
    /// Import: Manage roles for users and groups, Manage devices for devices.
    NeedsPerKind,
}

/// A schema and the schemas it refers to.
#[derive(Clone, Copy)]
pub struct SchemaDoc {
    pub schema: fn() -> RefOr<Schema>,
    pub dependencies: fn(&mut Vec<(String, RefOr<Schema>)>),
}

fn doc<T: ToSchema>() -> SchemaDoc {
    SchemaDoc {
        schema: <T as PartialSchema>::schema,
        dependencies: <T as ToSchema>::schemas,
    }
}

/// What a route takes.
#[derive(Clone, Copy)]
pub enum Input {
    Nothing,
    Json(SchemaDoc),
    Csv,
}

/// What a route answers on success.
#[derive(Clone, Copy)]
pub enum Output {
    Json(u16, SchemaDoc),
    NoContent,
    Redirect,
    Text,
    /// A CSV download.
    Csv,
    /// Server-sent events, each carrying this JSON document.
    EventStream(SchemaDoc),
    /// A WebSocket upgrade.
    Upgrade,
}

pub struct ApiRoute {
    pub method: Method,
    pub path: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub input: Input,
    pub output: Output,
    /// Optional boolean query parameters (name, meaning), for the OpenAPI
    /// document.
    pub flags: Vec<(&'static str, &'static str)>,
    pub handler: MethodRouter<AppState>,
}

pub(super) fn route(
    method: Method,
    path: &'static str,
    summary: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> ApiRoute {
    ApiRoute {
        method,
        path,
        summary,
        access,
        input: Input::Nothing,
        output: Output::NoContent,
        flags: Vec::new(),
        handler,
    }
}

impl ApiRoute {
    pub(super) fn takes<T: ToSchema>(mut self) -> Self {
        self.input = Input::Json(doc::<T>());
        self
    }
    /// An optional boolean query parameter.
    pub(super) fn flag(mut self, name: &'static str, meaning: &'static str) -> Self {
        self.flags.push((name, meaning));
        self
    }
    pub(super) fn takes_csv(mut self) -> Self {
        self.input = Input::Csv;
        self
    }
    pub(super) fn returns<T: ToSchema>(mut self, status: u16) -> Self {
        self.output = Output::Json(status, doc::<T>());
        self
    }
    pub(super) fn redirects(mut self) -> Self {
        self.output = Output::Redirect;
        self
    }
    pub(super) fn text(mut self) -> Self {
        self.output = Output::Text;
        self
    }
    pub(super) fn csv(mut self) -> Self {
        self.output = Output::Csv;
        self
    }
    pub(super) fn streams<T: ToSchema>(mut self) -> Self {
        self.output = Output::EventStream(doc::<T>());
        self
    }
    pub(super) fn upgrades(mut self) -> Self {
        self.output = Output::Upgrade;
        self
    }
    /// The request's statements share one pooled connection
    /// (`store::holding_a_connection`). Only for a route that does nothing
    /// slow between its statements: no password hashing, no call to
    /// another server, no waiting on a peer.
    pub(super) fn holds_connection(mut self) -> Self {
        self.handler = self
            .handler
            .layer(axum::middleware::from_fn(super::hold_a_connection));
        self
    }
}
