package chhttp

import "strings"

// The allow-lists of the HTTP interface. Names are compared in lower case
// (the engine's format and function names are case-insensitive; setting
// names are not, so a differently cased name is judged as the name it
// lowers to, which can only make the check stricter).
//
// TestPolicyListsMatchEngine checks every list against chDB 26.7: each
// allowed name exists, and every table function, table engine, database
// engine and format the engine has is either allowed or listed as denied,
// so a new engine version with new names fails the test until someone
// decides about them.

// words builds a set from a space-separated list, lower-cased.
func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[strings.ToLower(w)] = true
	}
	return m
}

// readKinds are the statements the read path runs: a query and its
// harmless relatives. USE only changes the request's own connection, which
// is closed after the request.
var readKinds = words(`SELECT WITH SHOW DESCRIBE DESC EXISTS EXPLAIN ( USE`)

// writeKinds are added on the write path (a POST to an interface that is
// not read-only): what Nexus's own remote mode needs to migrate a schema
// and insert (CREATE, ALTER, INSERT…) and their usual companions. CREATE,
// DROP and ALTER are narrowed further by object kind in checkKind.
var writeKinds = words(`INSERT CREATE ALTER DROP TRUNCATE RENAME EXCHANGE OPTIMIZE DELETE UPDATE`)

// createObjects are what CREATE and DROP may name on the write path. Not
// TEMPORARY TABLE (state outliving a statement), DICTIONARY (its SOURCE
// reads files and URLs), FUNCTION (persists code), USER, ROLE, QUOTA,
// ROW POLICY, SETTINGS PROFILE, NAMED COLLECTION (access control and
// credentials), LIVE or WINDOW VIEW (experimental).
var createObjects = words(`TABLE VIEW MATERIALIZED DATABASE`)

// allowedTableFunctions are table functions that compute rows from their
// arguments or read tables of this engine only; they are what people and
// Grafana use to make up data (numbers, generate_series, values) and what
// is harmless (null, view, merge over local tables). zeros, zeros_mt and
// loop are left out because the engine refuses them on a readonly=1
// connection anyway (measured).
var allowedTableFunctions = words(`numbers numbers_mt generate_series generateSeries primes
	generateRandom values null view merge`)

// deniedTableFunctions are the engine's other table functions: files,
// network, other databases, code execution, experimental ones.
var deniedTableFunctions = words(`SQLStandardValues arrowstream azureBlobStorage azureBlobStorageCluster
	cluster clusterAllReplicas cosn deltaLake deltaLakeAzure deltaLakeAzureCluster deltaLakeCluster
	deltaLakeLocal deltaLakeS3 deltaLakeS3Cluster dictionary eval executable file fileCluster filesystem
	format fuzzJSON fuzzQuery gcs hdfs hdfsCluster hudi hudiCluster iceberg icebergAzure
	icebergAzureCluster icebergCluster icebergHDFS icebergHDFSCluster icebergLocal icebergLocalCluster
	icebergS3 icebergS3Cluster input jdbc loop mergeTreeAnalyzeIndexes mergeTreeAnalyzeIndexesUUID
	mergeTreeIndex mergeTreeProjection mergeTreeTextIndex mongodb mysql odbc oss paimon paimonAzure
	paimonAzureCluster paimonCluster paimonHDFS paimonHDFSCluster paimonLocal paimonS3 paimonS3Cluster
	postgresql prometheusQuery prometheusQueryRange redis remote remoteSecure s3 s3Cluster sqlite
	timeSeriesData timeSeriesMetrics timeSeriesSamples timeSeriesSelector timeSeriesTags url urlCluster
	viewExplain viewIfPermitted ytsaurus zeros zeros_mt`)

// allowedTableEngines keep data in this engine's own data directory.
var allowedTableEngines = words(`MergeTree ReplacingMergeTree SummingMergeTree AggregatingMergeTree
	CollapsingMergeTree VersionedCollapsingMergeTree GraphiteMergeTree CoalescingMergeTree
	Memory Log TinyLog StripeLog Null Set Join Buffer View MaterializedView Merge GenerateRandom`)

// deniedTableEngines reach files, the network, other systems or ZooKeeper.
var deniedTableEngines = words(`Alias ArrowStream AzureBlobStorage AzureQueue COSN DeltaLake DeltaLakeAzure
	DeltaLakeLocal DeltaLakeS3 Dictionary Distributed EmbeddedRocksDB Executable ExecutablePool File
	FileLog FuzzJSON FuzzQuery GCS HDFS Hudi Iceberg IcebergAzure IcebergHDFS IcebergLocal IcebergS3
	JDBC Kafka KeeperMap Loop MaterializedPostgreSQL MongoDB MySQL ODBC OSS Paimon PaimonAzure
	PaimonHDFS PaimonLocal PaimonS3 PostgreSQL QueryRunner Redis Remote RemoteSecure
	ReplicatedAggregatingMergeTree ReplicatedCoalescingMergeTree ReplicatedCollapsingMergeTree
	ReplicatedGraphiteMergeTree ReplicatedMergeTree ReplicatedReplacingMergeTree
	ReplicatedSummingMergeTree ReplicatedVersionedCollapsingMergeTree S3 S3Queue SQLite TimeSeries
	URL WindowView YTsaurus`)

var allowedDatabaseEngines = words(`Atomic Memory Ordinary`)

var deniedDatabaseEngines = words(`Backup DataLakeCatalog Dictionary Filesystem HDFS MaterializedPostgreSQL
	MySQL PostgreSQL Replicated S3 SQLite`)

// deniedFunctions are ordinary functions that read files or schemas by
// path or stand for a storage: file() reads any file even on a readonly=1 connection
// (measured), format() parses inline data with any format and its schema
// settings, input() reads the request body, disk() defines a disk at any
// path inside a SETTINGS clause, catboostEvaluate() loads a model file.
var deniedFunctions = words(`file format input disk catboostEvaluate naiveBayesClassifier`)

// deniedFunctionPrefix: every dictionary function (dictGet, dictGetOrDefault,
// dictHas, dictIsIn, dictGetHierarchy…) starts with it.
const deniedFunctionPrefix = "dict"

// deniedCallNames is every name refused wherever it is followed by '('.
var deniedCallNames = func() map[string]bool {
	m := map[string]bool{}
	for _, set := range []map[string]bool{deniedTableFunctions, deniedTableEngines, deniedDatabaseEngines, deniedFunctions} {
		for k := range set {
			m[k] = true
		}
	}
	// A name that is also allowed as something else (the Null engine and
	// the null table function) stays allowed.
	for _, set := range []map[string]bool{allowedTableFunctions, allowedTableEngines, allowedDatabaseEngines} {
		for k := range set {
			delete(m, k)
		}
	}
	return m
}()

// allowedFormats are the formats clickhouse-go (Native, RowBinary), Grafana
// (Native over clickhouse-go) and curl users (text, JSON, Pretty…) use.
// Left out: formats that take a schema or template file (Template,
// Protobuf*, CapnProto, Avro, CustomSeparated*, Regexp…), reach a
// network schema registry (AvroConfluent), or that nobody asks of this
// interface.
var allowedFormats = words(`TabSeparated TabSeparatedRaw TabSeparatedWithNames TabSeparatedWithNamesAndTypes
	TabSeparatedRawWithNames TabSeparatedRawWithNamesAndTypes TSV TSVRaw TSVWithNames
	TSVWithNamesAndTypes TSVRawWithNames TSVRawWithNamesAndTypes Raw RawWithNames RawWithNamesAndTypes
	CSV CSVWithNames CSVWithNamesAndTypes TSKV
	JSON JSONStrings JSONCompact JSONCompactStrings JSONColumns JSONCompactColumns
	JSONColumnsWithMetadata JSONEachRow JSONStringsEachRow JSONCompactEachRow
	JSONCompactEachRowWithNames JSONCompactEachRowWithNamesAndTypes JSONCompactStringsEachRow
	JSONCompactStringsEachRowWithNames JSONCompactStringsEachRowWithNamesAndTypes
	JSONEachRowWithProgress JSONStringsEachRowWithProgress JSONLines JSONL NDJSON JSONObjectEachRow
	JSONAsString JSONAsObject LineAsString LineAsStringWithNames LineAsStringWithNamesAndTypes
	Native RowBinary RowBinaryWithNames RowBinaryWithNamesAndTypes RowBinaryWithDefaults
	Pretty PrettyCompact PrettyCompactMonoBlock PrettyNoEscapes PrettyCompactNoEscapes PrettySpace
	PrettySpaceNoEscapes PrettyMonoBlock PrettyNoEscapesMonoBlock PrettyCompactNoEscapesMonoBlock
	PrettySpaceMonoBlock PrettySpaceNoEscapesMonoBlock PrettyJSONEachRow PrettyJSONLines PrettyNDJSON
	Values Vertical Markdown MD Null XML SQLInsert Parquet Arrow ArrowStream ORC`)

// deniedFormats are the engine's other formats. They are named in errors
// as not allowed; a name in neither list is an unknown format.
var deniedFormats = words(`Template TemplateIgnoreSpaces CustomSeparated CustomSeparatedWithNames
	CustomSeparatedWithNamesAndTypes CustomSeparatedIgnoreSpaces CustomSeparatedIgnoreSpacesWithNames
	CustomSeparatedIgnoreSpacesWithNamesAndTypes Protobuf ProtobufSingle ProtobufList CapnProto Avro
	AvroConfluent Regexp MySQLDump DWARF Npy BSONEachRow Form One Hash MsgPack RawBLOB Prometheus
	Buffers ParquetMetadata PostgreSQLWire MySQLWire ODBCDriver2 JSONCompactEachRowWithProgress
	JSONCompactStringsEachRowWithProgress GeoJSON PNG RowBinaryWithNamesAndTypesAndDefaults`)

// settingRule says how a setting's value is checked.
type settingRule uint8

const (
	// anyLiteral: any string, number or boolean literal.
	anyLiteral settingRule = iota
	// positive: a number above zero (0 means "no limit" for these).
	positive
	// execTime, resultBytes, memoryUsage, threads, querySize: positive and
	// at most the interface's own ceiling (Limits, the CPU count,
	// maxStatementBytes). A request may lower them, never raise them.
	execTime
	resultBytes
	memoryUsage
	threads
	querySize
)

// readSettings are allowed on every path: what clickhouse-go sends
// (max_execution_time from the client's deadline, its Options.Settings),
// what Grafana's ClickHouse data source adds (limit, when a row limit is
// configured), limits a request may only lower, and settings that shape
// the output without touching files or the network.
var readSettings = map[string]settingRule{
	"max_execution_time": execTime,
	"max_result_bytes":   resultBytes,
	"max_memory_usage":   memoryUsage,
	"max_threads":        threads,
	"max_query_size":     querySize,

	"max_result_rows": positive, "max_rows_to_read": positive, "max_bytes_to_read": positive,
	"max_rows_to_group_by": positive, "max_rows_to_sort": positive, "max_bytes_to_sort": positive,
	"max_rows_in_join": positive, "max_bytes_in_join": positive, "max_rows_in_distinct": positive,
	"max_bytes_in_distinct": positive, "max_ast_depth": positive, "max_ast_elements": positive,
	"max_expanded_ast_elements": positive, "max_block_size": positive,

	"limit": anyLiteral, "offset": anyLiteral, "extremes": anyLiteral, "totals_mode": anyLiteral,
	"session_timezone": anyLiteral, "date_time_output_format": anyLiteral,
	"date_time_input_format": anyLiteral, "join_use_nulls": anyLiteral, "join_algorithm": anyLiteral,
	"enable_analyzer": anyLiteral, "allow_experimental_analyzer": anyLiteral,
	"prefer_column_name_to_alias": anyLiteral, "aggregate_functions_null_for_empty": anyLiteral,
	"cast_keep_nullable": anyLiteral, "union_default_mode": anyLiteral,
	"joined_subquery_requires_alias": anyLiteral, "count_distinct_implementation": anyLiteral,
	"final": anyLiteral, "use_skip_indexes": anyLiteral, "optimize_read_in_order": anyLiteral,
	"log_comment": anyLiteral, "wait_for_async_insert": anyLiteral,

	"output_format_json_quote_64bit_integers": anyLiteral, "output_format_json_quote_64bit_floats": anyLiteral,
	"output_format_json_quote_denormals": anyLiteral, "output_format_json_quote_decimals": anyLiteral,
	"output_format_json_escape_forward_slashes":  anyLiteral,
	"output_format_json_named_tuples_as_objects": anyLiteral,
	"output_format_json_array_of_rows":           anyLiteral, "output_format_json_validate_utf8": anyLiteral,
	"output_format_json_pretty_print":      anyLiteral,
	"output_format_write_statistics":       anyLiteral,
	"output_format_decimal_trailing_zeros": anyLiteral,
	"output_format_pretty_max_rows":        anyLiteral, "output_format_pretty_max_column_pad_width": anyLiteral,
	"output_format_pretty_max_value_width": anyLiteral, "output_format_pretty_color": anyLiteral,
	"output_format_pretty_grid_charset": anyLiteral, "output_format_pretty_row_numbers": anyLiteral,
	"output_format_csv_crlf_end_of_line": anyLiteral, "output_format_tsv_crlf_end_of_line": anyLiteral,
	"output_format_arrow_string_as_string":               anyLiteral,
	"output_format_arrow_low_cardinality_as_dictionary":  anyLiteral,
	"output_format_parquet_string_as_string":             anyLiteral,
	"output_format_markdown_escape_special_characters":   anyLiteral,
	"output_format_native_encode_types_in_binary_format": anyLiteral,
	"format_csv_delimiter":                               anyLiteral, "format_csv_allow_single_quotes": anyLiteral,
	"format_csv_allow_double_quotes": anyLiteral, "format_csv_null_representation": anyLiteral,
	"format_tsv_null_representation": anyLiteral, "bool_true_representation": anyLiteral,
	"bool_false_representation": anyLiteral,
}

// writeSettings are added on the write path: what inserts use.
var writeSettings = map[string]settingRule{
	"async_insert": anyLiteral, "async_insert_busy_timeout_ms": anyLiteral,
	"input_format_skip_unknown_fields": anyLiteral, "input_format_null_as_default": anyLiteral,
	"input_format_defaults_for_omitted_fields": anyLiteral, "input_format_import_nested_json": anyLiteral,
	"input_format_allow_errors_num": anyLiteral, "input_format_allow_errors_ratio": anyLiteral,
	"insert_deduplicate": anyLiteral, "insert_deduplication_token": anyLiteral,
	"max_insert_block_size": positive, "min_insert_block_size_rows": anyLiteral,
	"min_insert_block_size_bytes": anyLiteral, "mutations_sync": anyLiteral, "alter_sync": anyLiteral,
	"lightweight_deletes_sync": anyLiteral, "max_partitions_per_insert_block": anyLiteral,
	// Retried inserts land once in rollups too (see internal/store DedupSettings).
	"deduplicate_blocks_in_dependent_materialized_views": anyLiteral,
}

// tableSettings are MergeTree settings a CREATE or ALTER on the write path
// may give its table (Nexus's own migrations use index_granularity). Not
// disk or storage_policy, which can name a directory anywhere.
var tableSettings = map[string]settingRule{
	"index_granularity": positive, "index_granularity_bytes": anyLiteral,
	"ttl_only_drop_parts": anyLiteral, "merge_with_ttl_timeout": anyLiteral,
	"min_bytes_for_wide_part": anyLiteral, "min_rows_for_wide_part": anyLiteral,
	"allow_nullable_key": anyLiteral, "min_age_to_force_merge_seconds": anyLiteral,
	"min_age_to_force_merge_on_partition_only": anyLiteral,
	// Block sizes bound what a range read decompresses (chstore 0011, 0013).
	"min_compress_block_size": positive, "max_compress_block_size": positive,
	"deduplicate_merge_projection_mode": anyLiteral, "lightweight_mutation_projection_mode": anyLiteral,
	// Insert de-duplication windows (chstore migration 0006): counts and
	// durations, nothing that reaches a file or the network.
	"non_replicated_deduplication_window": anyLiteral, "replicated_deduplication_window": anyLiteral,
	"replicated_deduplication_window_seconds": anyLiteral,
}

// constantSettings are fixed by the engine profile (engineprofile.go) as a
// second line behind the allow-list: settings that name files or enable
// code execution. None of them is on an allow-list.
var constantSettings = strings.Fields(`format_schema format_schema_source format_schema_message_name
	format_template_row format_template_resultset output_format_schema input_format_record_errors_file_path
	rename_files_after_processing allow_experimental_eval_table_function`)
