//go:build !purego

// AVX2 + FMA kernels for the BiLSTM serving path and the training engine
// (see lstm_amd64.go). kernels.go holds their Go reference, which gives the
// same bits (TestKernelsBitIdentical): change one, change the other.

#include "textflag.h"

// SPLAT defines a 32-byte read-only constant: eight copies of one float32,
// given as its IEEE-754 bits, for use as a ymm memory operand.
#define SPLAT(name, bits) \
	DATA name<>+0(SB)/4, $bits; DATA name<>+4(SB)/4, $bits; \
	DATA name<>+8(SB)/4, $bits; DATA name<>+12(SB)/4, $bits; \
	DATA name<>+16(SB)/4, $bits; DATA name<>+20(SB)/4, $bits; \
	DATA name<>+24(SB)/4, $bits; DATA name<>+28(SB)/4, $bits; \
	GLOBL name<>(SB), RODATA|NOPTR, $32

// The coefficients of tanhRational (kernels.go), as float32 bits.
SPLAT(tanhHi, 0x40fcf84f)  // 7.90531110763549805
SPLAT(tanhLo, 0xc0fcf84f)  // -7.90531110763549805
SPLAT(tanhA13, 0xa59f25c0) // -2.76076847742355e-16
SPLAT(tanhA11, 0x2a61337e) // 2.00018790482477e-13
SPLAT(tanhA9, 0xaebd37ff)  // -8.60467152213735e-11
SPLAT(tanhA7, 0x335c0041)  // 5.12229709037114e-08
SPLAT(tanhA5, 0x3779434a)  // 1.48572235717979e-05
SPLAT(tanhA3, 0x3a270ded)  // 6.37261928875436e-04
SPLAT(tanhA1, 0x3ba059dc)  // 4.89352455891786e-03
SPLAT(tanhB6, 0x35a0d3d8)  // 1.19825839466702e-06
SPLAT(tanhB4, 0x38f895d6)  // 1.18534705686654e-04
SPLAT(tanhB2, 0x3b14aa05)  // 2.26843463243900e-03
SPLAT(tanhB0, 0x3ba059dd)  // 4.89352518554385e-03
SPLAT(half, 0x3f000000)    // 0.5

// TANH replaces the eight floats in X by their tanh, using T1 and T2:
// x clamped to ±7.9053, then x·P(x²)/Q(x²) (tanhRational in kernels.go).
#define TANH(X, T1, T2) \
	VMINPS tanhHi<>(SB), X, X; \
	VMAXPS tanhLo<>(SB), X, X; \
	VMULPS X, X, T1; \
	VMOVUPS tanhA13<>(SB), T2; \
	VFMADD213PS tanhA11<>(SB), T1, T2; \
	VFMADD213PS tanhA9<>(SB), T1, T2; \
	VFMADD213PS tanhA7<>(SB), T1, T2; \
	VFMADD213PS tanhA5<>(SB), T1, T2; \
	VFMADD213PS tanhA3<>(SB), T1, T2; \
	VFMADD213PS tanhA1<>(SB), T1, T2; \
	VMULPS T2, X, X; \
	VMOVUPS tanhB6<>(SB), T2; \
	VFMADD213PS tanhB4<>(SB), T1, T2; \
	VFMADD213PS tanhB2<>(SB), T1, T2; \
	VFMADD213PS tanhB0<>(SB), T1, T2; \
	VDIVPS T2, X, X

// SIGMOID replaces X by σ(X) = tanh(X/2)/2 + 1/2; Y14 must hold 0.5.
#define SIGMOID(X, T1, T2) \
	VMULPS Y14, X, X; \
	TANH(X, T1, T2); \
	VFMADD213PS Y14, Y14, X

// func sgemmAccAVX2(c, a, b *float32, rows, k, n int)
//
// For each of rows rows r: c[r·n : r·n+n] += Σ_l a[r·k+l] · b[l·n : l·n+n].
// n must be a multiple of 8; columns go 64 at a time (eight accumulators,
// enough to keep both FMA pipes busy), then 32 (four), the rest 8 at a time.
// Whatever the blocking, each element of c gets its terms added one FMA at a
// time in the order l = 0..k-1, as sgemmAccGo does.
TEXT ·sgemmAccAVX2(SB), NOSPLIT, $0-48
	MOVQ c+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ rows+24(FP), R8
	MOVQ k+32(FP), R9
	MOVQ n+40(FP), R10
	TESTQ R9, R9
	JZ   done
	MOVQ R10, R11
	SHLQ $2, R11 // bytes per row of b and c

row:
	TESTQ R8, R8
	JZ    done
	XORQ  R12, R12 // byte offset of the current columns

cols64:
	MOVQ R11, AX
	SUBQ R12, AX // bytes left in the row
	CMPQ AX, $256
	JLT  cols32
	LEAQ (DI)(R12*1), BX
	VMOVUPS 0(BX), Y0
	VMOVUPS 32(BX), Y1
	VMOVUPS 64(BX), Y2
	VMOVUPS 96(BX), Y3
	VMOVUPS 128(BX), Y4
	VMOVUPS 160(BX), Y5
	VMOVUPS 192(BX), Y6
	VMOVUPS 224(BX), Y7
	MOVQ SI, CX
	LEAQ (DX)(R12*1), R13
	MOVQ R9, R14

k64:
	VBROADCASTSS (CX), Y15
	VFMADD231PS 0(R13), Y15, Y0
	VFMADD231PS 32(R13), Y15, Y1
	VFMADD231PS 64(R13), Y15, Y2
	VFMADD231PS 96(R13), Y15, Y3
	VFMADD231PS 128(R13), Y15, Y4
	VFMADD231PS 160(R13), Y15, Y5
	VFMADD231PS 192(R13), Y15, Y6
	VFMADD231PS 224(R13), Y15, Y7
	ADDQ $4, CX
	ADDQ R11, R13
	DECQ R14
	JNZ  k64
	VMOVUPS Y0, 0(BX)
	VMOVUPS Y1, 32(BX)
	VMOVUPS Y2, 64(BX)
	VMOVUPS Y3, 96(BX)
	VMOVUPS Y4, 128(BX)
	VMOVUPS Y5, 160(BX)
	VMOVUPS Y6, 192(BX)
	VMOVUPS Y7, 224(BX)
	ADDQ $256, R12
	JMP  cols64

cols32:
	CMPQ AX, $128
	JLT  cols8
	LEAQ (DI)(R12*1), BX
	VMOVUPS 0(BX), Y0
	VMOVUPS 32(BX), Y1
	VMOVUPS 64(BX), Y2
	VMOVUPS 96(BX), Y3
	MOVQ SI, CX
	LEAQ (DX)(R12*1), R13
	MOVQ R9, R14

k32:
	VBROADCASTSS (CX), Y15
	VFMADD231PS 0(R13), Y15, Y0
	VFMADD231PS 32(R13), Y15, Y1
	VFMADD231PS 64(R13), Y15, Y2
	VFMADD231PS 96(R13), Y15, Y3
	ADDQ $4, CX
	ADDQ R11, R13
	DECQ R14
	JNZ  k32
	VMOVUPS Y0, 0(BX)
	VMOVUPS Y1, 32(BX)
	VMOVUPS Y2, 64(BX)
	VMOVUPS Y3, 96(BX)
	ADDQ $128, R12
	MOVQ R11, AX
	SUBQ R12, AX

cols8:
	CMPQ AX, $32
	JLT  nextrow
	LEAQ (DI)(R12*1), BX
	VMOVUPS (BX), Y0
	MOVQ SI, CX
	LEAQ (DX)(R12*1), R13
	MOVQ R9, R14

k8:
	VBROADCASTSS (CX), Y15
	VFMADD231PS (R13), Y15, Y0
	ADDQ $4, CX
	ADDQ R11, R13
	DECQ R14
	JNZ  k8
	VMOVUPS Y0, (BX)
	ADDQ $32, R12
	MOVQ R11, AX
	SUBQ R12, AX
	JMP  cols8

nextrow:
	ADDQ R11, DI
	LEAQ (SI)(R9*4), SI
	DECQ R8
	JMP  row

done:
	VZEROUPPER
	RET

// func lstmCellAVX2(gates, c, h *float32, hsz int)
//
// One LSTM cell update for hsz units (a multiple of 8): gates holds the gate
// pre-activations [i | f | g | o], hsz each; c the cell state, updated in
// place; h receives the new hidden state.
//
//	c = σ(f)·c + σ(i)·tanh(g);  h = σ(o)·tanh(c)
TEXT ·lstmCellAVX2(SB), NOSPLIT, $0-32
	MOVQ gates+0(FP), SI
	MOVQ c+8(FP), DI
	MOVQ h+16(FP), DX
	MOVQ hsz+24(FP), CX
	SHRQ $3, CX
	JZ   celldone
	MOVQ hsz+24(FP), R8
	SHLQ $2, R8 // bytes per gate
	VMOVUPS half<>(SB), Y14

cell:
	VMOVUPS (SI), Y0          // i
	VMOVUPS (SI)(R8*1), Y1    // f
	LEAQ    (SI)(R8*2), AX
	VMOVUPS (AX), Y2          // g
	VMOVUPS (AX)(R8*1), Y3    // o
	SIGMOID(Y0, Y8, Y9)
	SIGMOID(Y1, Y10, Y11)
	TANH(Y2, Y12, Y13)
	SIGMOID(Y3, Y8, Y9)
	VMULPS  Y2, Y0, Y0        // σ(i)·tanh(g)
	VMOVUPS (DI), Y4
	VFMADD231PS Y4, Y1, Y0    // + σ(f)·c
	VMOVUPS Y0, (DI)
	TANH(Y0, Y10, Y11)
	VMULPS  Y3, Y0, Y0
	VMOVUPS Y0, (DX)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNZ  cell

celldone:
	VZEROUPPER
	RET

// func lstmCellTrainAVX2(gates, cprev, c, tc, h *float32, hsz int)
//
// The cell update of lstmCellAVX2 for training: the previous state is read
// from cprev and the new one written to c (they may alias); the gate
// activations [σ(i) | σ(f) | tanh(g) | σ(o)] replace the pre-activations in
// gates, and tc receives tanh(c), for the backward pass. The values computed
// are those of lstmCellAVX2, instruction for instruction.
TEXT ·lstmCellTrainAVX2(SB), NOSPLIT, $0-48
	MOVQ gates+0(FP), SI
	MOVQ cprev+8(FP), BX
	MOVQ c+16(FP), DI
	MOVQ tc+24(FP), R9
	MOVQ h+32(FP), DX
	MOVQ hsz+40(FP), CX
	SHRQ $3, CX
	JZ   trdone
	MOVQ hsz+40(FP), R8
	SHLQ $2, R8 // bytes per gate
	VMOVUPS half<>(SB), Y14

trcell:
	VMOVUPS (SI), Y0          // i
	VMOVUPS (SI)(R8*1), Y1    // f
	LEAQ    (SI)(R8*2), AX
	VMOVUPS (AX), Y2          // g
	VMOVUPS (AX)(R8*1), Y3    // o
	SIGMOID(Y0, Y8, Y9)
	SIGMOID(Y1, Y10, Y11)
	TANH(Y2, Y12, Y13)
	SIGMOID(Y3, Y8, Y9)
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, (SI)(R8*1)
	VMOVUPS Y2, (AX)
	VMOVUPS Y3, (AX)(R8*1)
	VMULPS  Y2, Y0, Y0        // σ(i)·tanh(g)
	VMOVUPS (BX), Y4
	VFMADD231PS Y4, Y1, Y0    // + σ(f)·c_prev
	VMOVUPS Y0, (DI)
	TANH(Y0, Y10, Y11)
	VMOVUPS Y0, (R9)
	VMULPS  Y3, Y0, Y0
	VMOVUPS Y0, (DX)
	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $32, DI
	ADDQ $32, R9
	ADDQ $32, DX
	DECQ CX
	JNZ  trcell

trdone:
	VZEROUPPER
	RET
