package yamlfile

import "github.com/goccy/go-yaml/ast"

// maxExpandedNodes bounds the size of a document once YAML aliases are expanded. The decoder expands
// them eagerly, so a few lines of nested aliases ("billion laughs") would hang a load or a reload; a
// real file, the default center included, is a few thousand nodes.
const maxExpandedNodes = 100_000

// checkAliases refuses a document whose alias expansion exceeds maxExpandedNodes.
func checkAliases(name string, f *ast.File) error {
	c := aliasCounter{sizes: map[string]int{}}
	total := 0
	for _, doc := range f.Docs {
		total = sat(total + c.size(doc))
	}
	if total > maxExpandedNodes {
		return &Error{File: name, Msg: "too large once aliases are expanded (nested aliases?)"}
	}
	return nil
}

type aliasCounter struct {
	sizes map[string]int // anchor name → size of its expanded value
}

// size counts the nodes under n with every alias replaced by its anchor's expanded size.
func (c *aliasCounter) size(n ast.Node) int {
	total := 0
	ast.Walk(visitFunc(func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AliasNode:
			total = sat(total + max(1, c.sizes[tokenValue(n.Value)]))
			return false
		case *ast.AnchorNode:
			s := c.size(n.Value) // anchors precede their aliases, so nested ones are known
			c.sizes[tokenValue(n.Name)] = s
			total = sat(total + s)
			return false
		}
		total = sat(total + 1)
		return total <= maxExpandedNodes
	}), n)
	return total
}

func tokenValue(n ast.Node) string {
	if n == nil || n.GetToken() == nil {
		return ""
	}
	return n.GetToken().Value
}

// sat keeps counts from overflowing: anything past the bound is just "too much".
func sat(n int) int { return min(n, maxExpandedNodes+1) }
