`default_nettype none
// tspu_mac_array - P parallel 16x16 signed multipliers (one SB_MAC16 each on
// the iCE40UP5K), an adder tree and a row accumulator.
//   cycle M  : prod[k] <= coef[k] * opw[k]            (mul_en)
//   cycle M+1: acc <= (acc_first ? 0 : acc) + sum(prod) (acc_en)
//   (TREE_REG: the tree's last-but-one level is registered in M+1 and the
//   accumulate is in M+2)
// Multiplier 0 can be borrowed (aux_en) for the integrator and moment
// products; its registered product is prod0.  With P <= 16 and N <= 64 a
// row sum is below 2^36, so a 40-bit accumulator never wraps.
module tspu_mac_array #(
    parameter P   = 8, // multipliers, 1..16
    parameter ACC = 1, // 0: every row is one chunk (acc_first always 1): no accumulator adder
    parameter TREE_REG = 0 // 1: the adder tree's last-but-one level is registered (Fmax):
                           //    acc_en / acc_first come a cycle after the products
) (
    input  wire                clk,
    input  wire                mul_en,
    input  wire [16*P-1:0]     coef,   // coupling entries of this chunk
    input  wire [16*P-1:0]     opw,    // operand window of this chunk
    input  wire                aux_en, // multiplier 0 computes aux_a * aux_b
    input  wire signed [15:0]  aux_a,
    input  wire signed [15:0]  aux_b,
    input  wire                acc_en,
    /* verilator lint_off UNUSEDSIGNAL */ // ACC = 0: always 1, not looked at
    input  wire                acc_first,
    /* verilator lint_on UNUSEDSIGNAL */
    output reg  signed [39:0]  acc,
    output wire signed [31:0]  prod0
);
    generate
        if (P < 1 || P > 16) begin : g_bad_param
            tspu_param_error_mac_p u_err ();
        end
    endgenerate

    wire [32*P-1:0] prod_flat;
    genvar k;
    generate
        for (k = 0; k < P; k = k + 1) begin : g_mul
            reg signed [31:0] prod;
            wire signed [15:0] a = (k == 0 && aux_en) ? aux_a : $signed(coef[16*k +: 16]);
            wire signed [15:0] b = (k == 0 && aux_en) ? aux_b : $signed(opw[16*k +: 16]);
            always @(posedge clk)
                if (mul_en || (k == 0 && aux_en))
                    prod <= a * b;
            assign prod_flat[32*k +: 32] = prod;
        end
    endgenerate
    assign prod0 = $signed(prod_flat[31:0]);

    // balanced adder tree, each level one bit wider than the one below it
    // (products are 32 bits, level l sums 2^l of them in 32 + l bits)
    localparam LG = (P <= 1) ? 0 : $clog2(P);
    localparam LR = (LG >= 1) ? LG - 1 : 0;          // the level TREE_REG registers
    localparam LRW = (32 + LR) * (P >> LR);
    wire [LRW-1:0] lvl_q;   // level LR as the level above reads it
    genvar l, j;
    generate
        for (l = 0; l <= LG; l = l + 1) begin : g_lvl
            wire [(32 + l) * (P >> l) - 1:0] s;
            for (j = 0; j < (P >> l); j = j + 1) begin : g_node
                if (l == 0) begin : g_leaf
                    assign s[32*j +: 32] = prod_flat[32*j +: 32];
                end else begin : g_add
                    wire [32 + l - 2:0] lo, hi;
                    if (l - 1 == LR) begin : g_from_q
                        assign lo = lvl_q[(32 + l - 1) * (2 * j) +: 32 + l - 1];
                        assign hi = lvl_q[(32 + l - 1) * (2 * j + 1) +: 32 + l - 1];
                    end else begin : g_from_s
                        assign lo = g_lvl[l-1].s[(32 + l - 1) * (2 * j) +: 32 + l - 1];
                        assign hi = g_lvl[l-1].s[(32 + l - 1) * (2 * j + 1) +: 32 + l - 1];
                    end
                    assign s[(32 + l) * j +: 32 + l] = {lo[32 + l - 2], lo} + {hi[32 + l - 2], hi};
                end
            end
        end
        if (TREE_REG != 0) begin : g_treg
            reg [LRW-1:0] q;
            always @(posedge clk) q <= g_lvl[LR].s;
            assign lvl_q = q;
        end else begin : g_tcomb
            assign lvl_q = g_lvl[LR].s;
        end
    endgenerate
    wire [31 + LG:0] tree;
    generate
        if (LG == LR) begin : g_top_q   // P = 1: the registered level is the tree
            assign tree = lvl_q;
        end else begin : g_top
            assign tree = g_lvl[LG].s;
        end
    endgenerate
    wire signed [39:0] sum = {{(8 - LG){tree[31 + LG]}}, tree};

    generate
        if (ACC != 0) begin : g_acc
            always @(posedge clk)
                if (acc_en)
                    acc <= (acc_first ? 40'sd0 : acc) + sum;
        end else begin : g_noacc
            always @(posedge clk)
                if (acc_en)
                    acc <= sum;
        end
    endgenerate
endmodule
`default_nettype wire
