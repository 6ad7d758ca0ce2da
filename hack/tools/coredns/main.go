// Command coredns is CoreDNS from the github.com/coredns/coredns module pinned
// in go.mod, with only the plugins the Corefile of the test node's cluster DNS
// (hack/cluster.sh) uses: the full build links every cloud provider's SDK
// (Route 53, Azure, Cloud DNS, ...) and takes many times longer to build, for
// a node that has no internet. hack/tools.sh builds it into .tools/bin/coredns
// and packs it into .tools/images/coredns.tar.
package main

import (
	"fmt"
	"os"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/template"
)

// directives lists the linked plugins in the order CoreDNS's own plugin.cfg
// gives them: a query passes through them in this order, whatever order the
// Corefile names them in.
var directives = []string{
	"reload",
	"ready",
	"health",
	"prometheus",
	"errors",
	"log",
	"loadbalance",
	"cache",
	"template",
	"kubernetes",
	"loop",
}

func main() {
	if err := dnsserver.SetDirectives(directives); err != nil {
		fmt.Fprintln(os.Stderr, "coredns:", err)
		os.Exit(1)
	}
	coremain.Run()
}
