module stormglass/bench

go 1.26.0

require (
	gonum.org/v1/gonum v0.17.0
	stormglass v0.0.0
)

replace stormglass => ../
