package chhttp

import "strings"

const defaultFormat = "TabSeparated"

// contentType gives the Content-Type ClickHouse sends for an output format
// (IOutputFormat::getContentType and its overrides). Format names are case
// insensitive in the engine, so the lookup is too.
func contentType(format string) string {
	f := strings.ToLower(format)
	switch {
	case strings.HasPrefix(f, "tabseparated"), strings.HasPrefix(f, "tsv"), f == "tskv":
		return "text/tab-separated-values; charset=UTF-8"
	case f == "csv":
		return "text/csv; charset=UTF-8; header=absent"
	case strings.HasPrefix(f, "csvwithnames"):
		return "text/csv; charset=UTF-8; header=present"
	case f == "jsoneachrow", f == "jsonlines", f == "ndjson", f == "jsonstringseachrow",
		f == "jsoneachrowwithprogress", f == "jsonstringseachrowwithprogress":
		return "application/x-ndjson; charset=UTF-8"
	case strings.HasPrefix(f, "json"):
		return "application/json; charset=UTF-8"
	case f == "xml":
		return "application/xml; charset=UTF-8"
	case f == "prometheus":
		return "text/plain; version=0.0.4; charset=UTF-8"
	case f == "native", strings.HasPrefix(f, "rowbinary"), f == "parquet", f == "arrow", f == "arrowstream",
		f == "orc", f == "avro", strings.HasPrefix(f, "protobuf"), f == "capnproto", f == "msgpack",
		f == "npy", f == "bsoneachrow":
		return "application/octet-stream"
	}
	return "text/plain; charset=UTF-8"
}
