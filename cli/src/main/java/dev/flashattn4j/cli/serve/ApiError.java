package dev.flashattn4j.cli.serve;

/**
 * A request the server refuses, answered with OpenAI's error object: {@code {"error": {"message",
 * "type", "param", "code"}}} and an HTTP status, as OpenAI's clients expect it.
 */
final class ApiError extends RuntimeException {

  final int status;
  final String type;
  final String param;
  final String code;

  ApiError(int status, String type, String message, String param, String code) {
    super(message, null, false, false);
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
  }

  /** 400: a parameter out of range or of the wrong type. */
  static ApiError invalid(String message, String param) {
    return new ApiError(400, "invalid_request_error", message, param, null);
  }

  static ApiError invalid(String message, String param, String code) {
    return new ApiError(400, "invalid_request_error", message, param, code);
  }

  static ApiError notFound(String message, String code) {
    return new ApiError(404, "invalid_request_error", message, null, code);
  }
}
