package catalog_test

import (
	"fmt"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/catalog"
)

func ExamplePrice_Cost() {
	p, _ := catalog.Default().Price("openai", "gpt-4o")
	usd, priced := p.Cost(llm.Usage{Input: 1000, CacheRead: 2000, Output: 500})
	fmt.Printf("$%.4f priced=%v\n", usd, priced)
	_, priced = catalog.Price{}.Cost(llm.Usage{Input: 1})
	fmt.Println("unknown model priced:", priced)
	// Output:
	// $0.0100 priced=true
	// unknown model priced: false
}
