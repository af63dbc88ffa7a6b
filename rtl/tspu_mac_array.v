`default_nettype none
// tspu_mac_array - P parallel 16x16 signed multipliers (one SB_MAC16 each on
// the iCE40UP5K), an adder tree and a row accumulator.
//   cycle M  : prod[k] <= coef[k] * opw[k]            (mul_en)
//   cycle M+1: acc <= (acc_first ? 0 : acc) + sum(prod) (acc_en)
// Multiplier 0 can be borrowed (aux_en) for the integrator and moment
// products; its registered product is prod0.  With P <= 16 and N <= 64 a
// row sum is below 2^36, so a 40-bit accumulator never wraps.
module tspu_mac_array #(
    parameter P   = 8, // multipliers, 1..16
    parameter ACC = 1  // 0: every row is one chunk (acc_first always 1): no accumulator adder
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
    genvar l, j;
    generate
        for (l = 0; l <= LG; l = l + 1) begin : g_lvl
            wire [(32 + l) * (P >> l) - 1:0] s;
            for (j = 0; j < (P >> l); j = j + 1) begin : g_node
                if (l == 0) begin : g_leaf
                    assign s[32*j +: 32] = prod_flat[32*j +: 32];
                end else begin : g_add
                    wire [32 + l - 2:0] lo = g_lvl[l-1].s[(32 + l - 1) * (2 * j) +: 32 + l - 1];
                    wire [32 + l - 2:0] hi = g_lvl[l-1].s[(32 + l - 1) * (2 * j + 1) +: 32 + l - 1];
                    assign s[(32 + l) * j +: 32 + l] = {lo[32 + l - 2], lo} + {hi[32 + l - 2], hi};
                end
            end
        end
    endgenerate
    wire [31 + LG:0] tree = g_lvl[LG].s;
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
