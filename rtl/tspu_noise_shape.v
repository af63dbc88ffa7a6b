`default_nettype none
// tspu_noise_shape - one shaped noise sample (tspu_noise_next): two LFSR113
// calls, xi = bytesum(u) + bytesum(v) - 1020, in [-1020, 1020] (12 bits).
module tspu_noise_shape (
    input  wire [127:0]       z,
    output wire [127:0]       z_next,
    output wire signed [11:0] xi
);
    wire [127:0] z_mid;
    wire [31:0]  u;
    wire [31:0]  v;

    tspu_lfsr113 u_call0 (.z(z),     .z_next(z_mid),  .u(u));
    tspu_lfsr113 u_call1 (.z(z_mid), .z_next(z_next), .u(v));

    // eight bytes, each zero-extended to 12 bits (sum <= 2040)
    wire [11:0] sum = {4'd0, u[7:0]}  + {4'd0, u[15:8]} + {4'd0, u[23:16]} + {4'd0, u[31:24]}
                    + {4'd0, v[7:0]}  + {4'd0, v[15:8]} + {4'd0, v[23:16]} + {4'd0, v[31:24]};
    assign xi = $signed(sum - 12'd1020);
endmodule
`default_nettype wire
