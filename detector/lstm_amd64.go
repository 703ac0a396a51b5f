//go:build !purego

package detector

import "golang.org/x/sys/cpu"

// haveAVX2FMA reports whether the AVX2 + FMA kernels of lstm_amd64.s can
// run here (the CPU has both and the OS saves the ymm registers).
var haveAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// sgemmAccAVX2 adds a·b to c, row by row: for each of rows rows r,
// c[r·n : r·n+n] += Σ_l a[r·k+l] · b[l·n : l·n+n]. n must be a multiple of 8.
//
//go:noescape
func sgemmAccAVX2(c, a, b *float32, rows, k, n int)

// lstmCellAVX2 applies one LSTM cell update to hsz units (a multiple of 8):
// gates holds the gate pre-activations [i | f | g | o] (hsz each), c the cell
// state (updated in place), and h receives σ(o)·tanh(c).
//
//go:noescape
func lstmCellAVX2(gates, c, h *float32, hsz int)

// lstmCellTrainAVX2 is lstmCellAVX2 for training: it reads the previous
// cell state from cprev and writes the new one to c (they may alias),
// replaces the gate pre-activations with their activations
// [σ(i) | σ(f) | tanh(g) | σ(o)] and writes tanh(c) to tc. hsz must be a
// multiple of 8.
//
//go:noescape
func lstmCellTrainAVX2(gates, cprev, c, tc, h *float32, hsz int)
