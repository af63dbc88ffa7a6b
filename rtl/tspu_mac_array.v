`default_nettype none
// tspu_mac_array - P parallel 16x16 signed multipliers (one SB_MAC16 each on
// the iCE40UP5K), an adder tree and a row accumulator.
//   cycle M  : prod[k] <= coef[k] * opw[k]            (mul_en)
//   cycle M+1: acc <= (acc_first ? 0 : acc) + sum(prod) (acc_en)
// Multiplier 0 can be borrowed (aux_en) for the integrator and moment
// products; its registered product is prod0.  With P <= 16 and N <= 64 a
// row sum is below 2^36, so a 40-bit accumulator never wraps.
module tspu_mac_array #(
    parameter P = 8 // multipliers, 1..16
) (
    input  wire                clk,
    input  wire                mul_en,
    input  wire [16*P-1:0]     coef,   // coupling entries of this chunk
    input  wire [16*P-1:0]     opw,    // operand window of this chunk
    input  wire                aux_en, // multiplier 0 computes aux_a * aux_b
    input  wire signed [15:0]  aux_a,
    input  wire signed [15:0]  aux_b,
    input  wire                acc_en,
    input  wire                acc_first,
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

    // adder tree (written as a loop; synthesis balances it)
    reg signed [39:0] sum;
    integer i;
    always @(*) begin
        sum = 40'sd0;
        for (i = 0; i < P; i = i + 1)
            sum = sum + {{8{prod_flat[32*i+31]}}, prod_flat[32*i +: 32]};
    end

    always @(posedge clk)
        if (acc_en)
            acc <= (acc_first ? 40'sd0 : acc) + sum;
endmodule
`default_nettype wire
