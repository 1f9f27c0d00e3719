// Package simpy carries the SimPy side of the comparison. The script is
// embedded so that the driver can run it from any working directory (make
// bench, go run from bench/, a copied binary) without locating the source
// tree.
package simpy

import _ "embed"

// MMc is the text of mmc.py, the M/M/c model in SimPy 2.3.1's classic API.
//
//go:embed mmc.py
var MMc []byte
