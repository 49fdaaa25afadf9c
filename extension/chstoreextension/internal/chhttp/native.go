package chhttp

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chdb"
)

// The engine writes the Native format as ClickHouse does for a client of
// protocol revision 0: no block info, no per-column serialization flag.
// clickhouse-go over HTTP opens a connection by asking
// "SELECT displayName(), version(), revision(), timezone()" and decodes that
// answer as the revision it sends (client_protocol_version), then every
// later block as the revision() the server reported. So the handshake is
// answered here, in the client's revision, reporting revision 0: from then
// on the client reads the engine's own Native output as it is.
const helloQuery = "select displayname(), version(), revision(), timezone()"

// minRevisionCustomSerialization is the revision from which each column
// header carries a has-custom-serialization byte
// (DBMS_MIN_REVISION_WITH_CUSTOM_SERIALIZATION).
const minRevisionCustomSerialization = 54454

func isHello(sql string) bool {
	return strings.Join(strings.Fields(strings.ToLower(sql)), " ") == helloQuery
}

// helloAnswer is the handshake answer in Native for client revision rev.
func helloAnswer(c Conn, rev uint64) ([]byte, error) {
	var f []string
	err := c.Query("SELECT displayName(), version(), timezone()", "TabSeparated", nil, func(res *chdb.Result) error {
		f = strings.Split(strings.TrimRight(string(res.Data), "\n"), "\t")
		if len(f) != 3 {
			return fmt.Errorf("unexpected server info %q", res.Data)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var b []byte
	if rev > 0 {
		// Block info: field 1 is_overflows=false, field 2 bucket_num=-1, end.
		b = append(b, 1, 0, 2, 0xff, 0xff, 0xff, 0xff, 0)
	}
	b = binary.AppendUvarint(b, 4) // columns
	b = binary.AppendUvarint(b, 1) // rows
	column := func(name, typ string, value []byte) {
		b = appendString(b, name)
		b = appendString(b, typ)
		if rev >= minRevisionCustomSerialization {
			b = append(b, 0)
		}
		b = append(b, value...)
	}
	column("displayName()", "String", appendString(nil, f[0]))
	column("version()", "String", appendString(nil, f[1]))
	column("revision()", "UInt32", []byte{0, 0, 0, 0})
	column("timezone()", "String", appendString(nil, f[2]))
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// clientRevision is the client_protocol_version parameter, 0 when absent.
func clientRevision(v string) uint64 {
	n, _ := strconv.ParseUint(v, 10, 64)
	return n
}

// emptyNativeBlock is the header-only block a ClickHouse server sends for a
// query without rows, where the engine sends nothing: clients (Grafana's
// table panels among them) then still learn the result's columns. nil when
// the columns cannot be described.
func emptyNativeBlock(c Conn, query string, params map[string]string) []byte {
	var described string
	err := c.Query("DESCRIBE TABLE ("+query+")", "TabSeparated", params, func(res *chdb.Result) error {
		described = string(res.Data)
		return nil
	})
	if err != nil {
		return nil
	}
	var names, types []string
	for _, line := range strings.Split(strings.TrimRight(described, "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			return nil
		}
		names, types = append(names, unescapeTSV(f[0])), append(types, unescapeTSV(f[1]))
	}
	b := binary.AppendUvarint(nil, uint64(len(names)))
	b = binary.AppendUvarint(b, 0) // rows
	for i := range names {
		b = appendString(b, names[i])
		b = appendString(b, types[i])
	}
	return b
}
