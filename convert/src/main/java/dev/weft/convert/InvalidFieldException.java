package dev.weft.convert;

import dev.weft.xds.translate.FieldError;

/**
 * A field of a Kubernetes object that cannot be read as the core's records (possible only where
 * the CRD's schema did not run): the object is left out of the mesh, and its status names the field.
 */
public final class InvalidFieldException extends IllegalArgumentException {

  private final transient FieldError error;

  public InvalidFieldException(String path, String message) {
    this(path, message, null);
  }

  public InvalidFieldException(String path, String message, Throwable cause) {
    super(path + ": " + message, cause);
    this.error = new FieldError(path, FieldError.Reason.INVALID, message);
  }

  public FieldError error() {
    return error;
  }
}
