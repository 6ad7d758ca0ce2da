package dev.weft.api.v1alpha1;

/** HTTP request methods a rule can match on. */
public enum HttpMethod {
  GET,
  HEAD,
  POST,
  PUT,
  DELETE,
  CONNECT,
  OPTIONS,
  TRACE,
  PATCH
}
