// Command dump prints the prompt catalog as "lang<TAB>id<TAB>text" lines for scripts/make-prompts.sh,
// so the shell script never parses YAML itself.
package main

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/hotline-cc/hotline/prompts"
)

func main() {
	path := "prompts/catalog.yaml"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c, err := prompts.ParseCatalog(path, data)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for _, id := range c.IDs() {
		for _, lang := range slices.Sorted(maps.Keys(c[id])) {
			text := strings.Join(strings.Fields(c[id][lang]), " ") // one line per prompt
			fmt.Fprintf(w, "%s\t%s\t%s\n", lang, id, text)
		}
	}
}
