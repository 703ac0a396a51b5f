//go:build !amd64 || purego

package detector

// haveAVX2FMA is false where the assembly kernels are not built: the
// serving path then uses gonum's SGEMM and the activation table.
const haveAVX2FMA = false

func sgemmAccAVX2(c, a, b *float32, rows, k, n int) { panic("sgemmAccAVX2: not built") }
func lstmCellAVX2(gates, c, h *float32, hsz int)    { panic("lstmCellAVX2: not built") }
func lstmCellTrainAVX2(gates, cprev, c, tc, h *float32, hsz int) {
	panic("lstmCellTrainAVX2: not built")
}
