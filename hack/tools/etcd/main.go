// Command etcd is the etcd server, built from the go.etcd.io/etcd/server/v3
// module pinned in go.mod. It is the same entry point as etcd's own
// server/main.go; hack/tools.sh builds it into .tools/bin/etcd.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
