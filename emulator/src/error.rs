//! Connect's error shape: a status code, the `x-amzn-ErrorType` header and a JSON body with `Message`.
//! The SDK picks the error variant from the header, so the names must match the service model exactly.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: String,
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ApiError { status: status_of(code), code: code.to_string(), message: message.into() }
    }
    pub fn invalid_param(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterException", message)
    }
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new("InvalidRequestException", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", message)
    }
}

/// Status codes from the Connect service model (API version 2017-08-08).
pub fn status_of(code: &str) -> u16 {
    match code {
        "InvalidRequestException" | "InvalidParameterException" => 400,
        "AccessDeniedException" => 403,
        "ResourceNotFoundException" => 404,
        "DuplicateResourceException" | "ConditionalOperationFailedException" => 409,
        "ThrottlingException" | "LimitExceededException" | "TooManyRequestsException" => 429,
        "ServiceUnavailableException" => 503,
        _ => 500,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({ "Message": self.message });
        (status, [("x-amzn-ErrorType", self.code.clone())], axum::Json(body)).into_response()
    }
}
