package dev.weft.sync.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.UncheckedIOException;
import java.util.Objects;

/** The JSON form of a {@link SyncReport}: how the xds-server writes it and the operator reads it. */
public final class SyncReportJson {

  private static final ObjectMapper JSON = JsonMapper.builder().build();

  private SyncReportJson() {}

  /** What {@link #read} found in a document. */
  public sealed interface Result permits Parsed, NewerSchema, Malformed {}

  /** A report this code reads. */
  public record Parsed(SyncReport report) implements Result {

    public Parsed {
      Objects.requireNonNull(report, "report");
    }
  }

  /**
   * A report in a schema version newer than {@link SyncReport#SCHEMA_VERSION}: written by a newer
   * xds-server, in a shape this reader might misread, so it is not read at all.
   */
  public record NewerSchema(int schemaVersion) implements Result {}

  /** Not a sync report: not JSON, not an object, or without its replica or a valid {@code updated} time. */
  public record Malformed(String problem) implements Result {}

  /** The report as JSON, in the documented field order. */
  public static String write(SyncReport report) {
    try {
      return JSON.writeValueAsString(report);
    } catch (JsonProcessingException e) {
      // Records of strings, numbers and lists always serialize; this is a bug, not bad input.
      throw new UncheckedIOException("could not write the sync report of " + report.replica(), e);
    }
  }

  /**
   * The report in {@code json}. The schema version is checked before anything else is bound, so a
   * newer report is never half-read; fields this version does not know are ignored.
   */
  public static Result read(String json) {
    if (json == null || json.isBlank()) {
      return new Malformed("empty");
    }
    JsonNode tree;
    try {
      tree = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      return new Malformed("not JSON: " + e.getOriginalMessage());
    }
    if (tree == null || !tree.isObject()) {
      return new Malformed("not a JSON object");
    }
    JsonNode version = tree.get("schemaVersion");
    if (version != null && !version.isNull()) {
      if (!version.isIntegralNumber() || !version.canConvertToInt() || version.intValue() < 1) {
        return new Malformed("schemaVersion " + version + " is not a positive integer");
      }
      if (version.intValue() > SyncReport.SCHEMA_VERSION) {
        return new NewerSchema(version.intValue());
      }
    }
    SyncReport report;
    try {
      report = JSON.treeToValue(tree, SyncReport.class);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      return new Malformed("not in the sync report's shape: " + e.getMessage());
    }
    if (report.replica() == null || report.replica().isBlank()) {
      return new Malformed("no replica");
    }
    if (report.updatedAt().isEmpty()) {
      return new Malformed("no valid updated time: " + report.updated());
    }
    return new Parsed(report);
  }
}
