//go:build amd64 && !purego

#include "textflag.h"

// func teddy2(b []byte, tab *[4][32]byte, out []int32) (n int, next int)
//
// For each position i with i+33 <= len(b), in 32-byte blocks, classifies
// b[i] by tab[0] (low nibble) and tab[1] (high nibble), b[i+1] by tab[2]
// and tab[3], and appends i to out when the two classes share a bucket
// bit. It stops before a block when out has room for fewer than 32 more,
// and returns how many it wrote and where it stopped. len(out) >= 32.
TEXT ·teddy2(SB), NOSPLIT, $0-72
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ tab+24(FP), AX
	MOVQ out_base+32(FP), DI
	MOVQ out_len+40(FP), R8
	VMOVDQU 0(AX), Y10
	VMOVDQU 32(AX), Y11
	VMOVDQU 64(AX), Y12
	VMOVDQU 96(AX), Y13
	MOVQ $0x0f0f0f0f, R9
	MOVQ R9, X14
	VPBROADCASTD X14, Y14
	VPXOR Y9, Y9, Y9
	XORQ DX, DX
	XORQ BX, BX
	SUBQ $32, R8
	LEAQ -32(R8), R13

	// 64 positions per step while 65 bytes remain and out has room for
	// 64: one test and one loop branch per two blocks. The rest goes
	// through the 32-position loop below.
loop64:
	LEAQ 65(DX), R9
	CMPQ R9, CX
	JA   loop
	CMPQ BX, R13
	JGT  loop
	VMOVDQU (SI)(DX*1), Y0
	VMOVDQU 1(SI)(DX*1), Y1
	VMOVDQU 32(SI)(DX*1), Y4
	VMOVDQU 33(SI)(DX*1), Y5
	VPSRLW $4, Y0, Y2
	VPAND Y14, Y0, Y0
	VPAND Y14, Y2, Y2
	VPSHUFB Y0, Y10, Y0
	VPSHUFB Y2, Y11, Y2
	VPAND Y0, Y2, Y0
	VPSRLW $4, Y1, Y3
	VPAND Y14, Y1, Y1
	VPAND Y14, Y3, Y3
	VPSHUFB Y1, Y12, Y1
	VPSHUFB Y3, Y13, Y3
	VPAND Y1, Y3, Y1
	VPAND Y0, Y1, Y0
	VPSRLW $4, Y4, Y6
	VPAND Y14, Y4, Y4
	VPAND Y14, Y6, Y6
	VPSHUFB Y4, Y10, Y4
	VPSHUFB Y6, Y11, Y6
	VPAND Y4, Y6, Y4
	VPSRLW $4, Y5, Y7
	VPAND Y14, Y5, Y5
	VPAND Y14, Y7, Y7
	VPSHUFB Y5, Y12, Y5
	VPSHUFB Y7, Y13, Y7
	VPAND Y5, Y7, Y5
	VPAND Y4, Y5, Y4
	VPCMPEQB Y9, Y0, Y0
	VPCMPEQB Y9, Y4, Y4
	VPMOVMSKB Y0, R10
	VPMOVMSKB Y4, R11
	SHLQ $32, R11
	ORQ  R11, R10
	NOTQ R10
	TESTQ R10, R10
	JZ   advance64

bits64:
	BSFQ R10, R11
	ADDQ DX, R11
	MOVL R11, (DI)(BX*4)
	INCQ BX
	LEAQ -1(R10), R12
	ANDQ R12, R10
	JNZ  bits64

advance64:
	ADDQ $64, DX
	JMP  loop64

loop:
	LEAQ 33(DX), R9
	CMPQ R9, CX
	JA   done
	CMPQ BX, R8
	JGT  done
	VMOVDQU (SI)(DX*1), Y0
	VMOVDQU 1(SI)(DX*1), Y1
	VPSRLW $4, Y0, Y2
	VPAND Y14, Y0, Y0
	VPAND Y14, Y2, Y2
	VPSHUFB Y0, Y10, Y0
	VPSHUFB Y2, Y11, Y2
	VPAND Y0, Y2, Y0
	VPSRLW $4, Y1, Y3
	VPAND Y14, Y1, Y1
	VPAND Y14, Y3, Y3
	VPSHUFB Y1, Y12, Y1
	VPSHUFB Y3, Y13, Y3
	VPAND Y1, Y3, Y1
	VPAND Y0, Y1, Y0
	VPCMPEQB Y9, Y0, Y0
	VPMOVMSKB Y0, R10
	NOTL R10
	TESTL R10, R10
	JZ   advance

bits:
	BSFL R10, R11
	ADDQ DX, R11
	MOVL R11, (DI)(BX*4)
	INCQ BX
	LEAL -1(R10), R12
	ANDL R12, R10
	JNZ  bits

advance:
	ADDQ $32, DX
	JMP  loop

done:
	VZEROUPPER
	MOVQ BX, n+56(FP)
	MOVQ DX, next+64(FP)
	RET

// func cpuHasAVX2() bool
TEXT ·cpuHasAVX2(SB), NOSPLIT, $0-1
	XORL AX, AX
	XORL CX, CX
	CPUID
	CMPL AX, $7
	JLT  no
	MOVL $1, AX
	XORL CX, CX
	CPUID
	ANDL $0x18000000, CX // OSXSAVE and AVX
	CMPL CX, $0x18000000
	JNE  no
	XORL CX, CX
	XGETBV
	ANDL $6, AX // the OS saves XMM and YMM state
	CMPL AX, $6
	JNE  no
	MOVL $7, AX
	XORL CX, CX
	CPUID
	ANDL $0x20, BX // AVX2
	JZ   no
	MOVB $1, ret+0(FP)
	RET

no:
	MOVB $0, ret+0(FP)
	RET
