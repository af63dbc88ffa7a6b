// tspu_fixed.vh - the fixed-point primitives of host/model/tspu_fixed.h as
// Verilog functions (included inside a module body).  round_shift: add half
// an output LSB, arithmetic shift right (ties toward +infinity).

// round(v / 2^s) for s in 0..63
function signed [63:0] f_round_shift;
    input signed [63:0] v;
    input [5:0] s;
    begin
        if (s == 6'd0)
            f_round_shift = v;
        else
            f_round_shift = (v + (64'sd1 <<< (s - 6'd1))) >>> s;
    end
endfunction

// scale16(v, s) = round(v * 2^16 / 2^s), s in 0..62, |v| < 2^46
function signed [63:0] f_scale16;
    input signed [63:0] v;
    input [5:0] s;
    begin
        if (s <= 6'd16)
            f_scale16 = v <<< (6'd16 - s);          // exact, no rounding
        else
            f_scale16 = f_round_shift(v, s - 6'd16); // low 16 bits of v*2^16 are 0
    end
endfunction

// clamp to signed 32 bits / did it clamp
function signed [31:0] f_sat32;
    input signed [63:0] v;
    begin
        if (v > 64'sh7FFFFFFF)
            f_sat32 = 32'sh7FFFFFFF;
        else if (v < -64'sh80000000)
            f_sat32 = -32'sh80000000;
        else
            f_sat32 = v[31:0];
    end
endfunction

function f_is_sat32;
    input signed [63:0] v;
    begin
        f_is_sat32 = (v > 64'sh7FFFFFFF) || (v < -64'sh80000000);
    end
endfunction

// sign extensions
function signed [63:0] f_sx32;
    input [31:0] v;
    begin
        f_sx32 = {{32{v[31]}}, v};
    end
endfunction

function signed [63:0] f_sx16;
    input [15:0] v;
    begin
        f_sx16 = {{48{v[15]}}, v};
    end
endfunction
