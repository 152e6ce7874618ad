//! Go's float behaviour where the reference's MMU output depends on it:
//! `math.Exp` and `math.Log` as Go computes them on amd64 (the plot's window
//! sizes are `time.Duration(math.Exp(...))`, truncated, so one ulp can move a
//! window by a nanosecond), `math.Min`/`math.Max` (signed zeros, NaN), and
//! the two ways floats are printed (`encoding/json` and `fmt`'s `%v`).

// Constants are written as Go's sources write them.
#![allow(clippy::excessive_precision, clippy::approx_constant)]

/// Go's `math.Min`.
#[inline]
pub(crate) fn min(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY || y == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { x } else { y };
    }
    if x < y {
        x
    } else {
        y
    }
}

/// Go's `math.Max`.
#[inline]
pub(crate) fn max(x: f64, y: f64) -> f64 {
    if x == f64::INFINITY || y == f64::INFINITY {
        return f64::INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { y } else { x };
    }
    if x > y {
        x
    } else {
        y
    }
}

/// Go's float64 → int64 conversion on amd64 (`CVTTSD2SQ`): truncation, and
/// the "integer indefinite" value for NaN and out-of-range inputs.
#[inline]
pub(crate) fn f64_to_i64(x: f64) -> i64 {
    // 2^63: i64 covers [-2^63, 2^63).
    const TWO63: f64 = 9223372036854775808.0;
    if !(-TWO63..TWO63).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

/// Go's `math.Exp` on amd64 (`math/exp_amd64.s`, a SLEEF-derived reduction
/// and Taylor series); `fma` selects its AVX/FMA variant.
pub(crate) fn exp_with(x: f64, fma: bool) -> f64 {
    const LOG2E: f64 = 1.4426950408889634073599246810018920;
    const LN2U: f64 = 0.69314718055966295651160180568695068359375;
    const LN2L: f64 = 0.28235290563031577122588448175013436025525412068e-12;
    const OVERFLOW: f64 = 7.09782712893384e+02;
    const T: [f64; 9] = [
        0.5,
        1.0,
        2.0,
        1.6666666666666666667e-1,
        4.1666666666666666667e-2,
        8.3333333333333333333e-3,
        1.3888888888888888889e-3,
        1.9841269841269841270e-4,
        2.4801587301587301587e-5,
    ];
    const POS_INF: u64 = 0x7FF0_0000_0000_0000;
    const NEG_INF: u64 = 0xFFF0_0000_0000_0000;
    let bits = x.to_bits();
    if (bits & !(1u64 << 63)) as i64 >= POS_INF as i64 {
        // NaN, +Inf: x; -Inf: 0.
        return if bits == NEG_INF { 0.0 } else { x };
    }
    if x > OVERFLOW {
        return f64::INFINITY;
    }
    // CVTSD2SL: rounds to nearest even; out of range gives i32::MIN.
    let t = LOG2E * x;
    let r = t.round_ties_even();
    let k: i32 = if (-2147483648.0..=2147483647.0).contains(&r) {
        r as i32
    } else {
        i32::MIN
    };
    let kf = k as f64;
    let mut x = x;
    if fma {
        x = (-kf).mul_add(LN2U, x);
        x = (-kf).mul_add(LN2L, x);
        x *= 0.0625;
        let mut p = T[8];
        for c in [T[7], T[6], T[5], T[4], T[3], T[0], T[1]] {
            p = p.mul_add(x, c);
        }
        x *= p;
        for _ in 0..3 {
            x *= x + T[2];
        }
        x = x.mul_add(x + T[2], T[1]);
    } else {
        x -= LN2U * kf;
        x -= LN2L * kf;
        x *= 0.0625;
        let mut p = T[8];
        for c in [T[7], T[6], T[5], T[4], T[3], T[0], T[1]] {
            p = p * x + c;
        }
        x *= p;
        for _ in 0..4 {
            x *= x + T[2];
        }
        x += T[1];
    }
    // Scale by 2**k.
    let mut e = k.wrapping_add(0x3FF);
    if e <= 0 {
        if e < -52 {
            return 0.0;
        }
        e += 0x3FE;
        x *= f64::from_bits((e as u64) << 52);
        e = 1;
    } else if e >= 0x7FF {
        return f64::INFINITY;
    }
    x * f64::from_bits((e as u64) << 52)
}

/// Go's `math.Exp` as the reference computed it: the amd64 assembly's FMA
/// variant, which Go picks on CPUs with AVX and FMA. The goldens were
/// captured on such a CPU (four of their plots have a window 1 ns off with
/// the plain variant), and always taking it keeps our output independent
/// of the machine (`f64::mul_add` is exact everywhere). Go on amd64 CPUs
/// without FMA, or on other architectures, may differ by an ulp and so
/// shift a plot window by 1 ns.
pub(crate) fn exp(x: f64) -> f64 {
    exp_with(x, true)
}

/// Go's `math.Log` on amd64 (`math/log_amd64.s`).
pub(crate) fn log(x: f64) -> f64 {
    const HSQRT2: f64 = 7.07106781186547524401e-01;
    const LN2HI: f64 = 6.93147180369123816490e-01;
    const LN2LO: f64 = 1.90821492927058770002e-10;
    const L1: f64 = 6.666666666666735130e-01;
    const L2: f64 = 3.999999999940941908e-01;
    const L3: f64 = 2.857142874366239149e-01;
    const L4: f64 = 2.222219843214978396e-01;
    const L5: f64 = 1.818357216161805012e-01;
    const L6: f64 = 1.531383769920937332e-01;
    const L7: f64 = 1.479819860511658591e-01;
    let bits = x.to_bits();
    if bits & !(1u64 << 63) == 0 {
        return f64::NEG_INFINITY;
    }
    if (bits as i64) < 0 {
        return f64::from_bits(0x7FF8_0000_0000_0001);
    }
    if bits >= 0x7FF0_0000_0000_0000 {
        return x;
    }
    // Frexp without denormal handling, as the assembly does it.
    let mut f1 = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0.5f64.to_bits());
    let mut k = (((bits >> 52) & 0x7FF) as i32 - 0x3FE) as f64;
    // CMPSD NLT: the adjustment applies when !(HSQRT2 < f1).
    let adj = if HSQRT2 < f1 { 0.0 } else { 1.0 };
    k -= adj;
    f1 *= adj + 1.0;
    let f = f1 - 1.0;
    let s = f / (2.0 + f);
    let s2 = s * s;
    let s4 = s2 * s2;
    let t1 = s2 * (((L7 * s4 + L5) * s4 + L3) * s4 + L1);
    let t2 = s4 * ((L6 * s4 + L4) * s4 + L2);
    let r = t1 + t2;
    let hfsq = 0.5 * f * f;
    let a = s * (r + hfsq) + LN2LO * k;
    let b = (hfsq - a) - f;
    k * LN2HI - b
}

/// The shortest decimal digits that round-trip `x` (finite, non-negative)
/// and the decimal point position: `x = 0.DIGITS × 10^dp`.
fn shortest(x: f64) -> (Vec<u8>, i32) {
    let s = format!("{:e}", x);
    let (mant, exp) = s.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent");
    let digits: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
    if digits == b"0" {
        return (Vec::new(), 0);
    }
    (digits, exp + 1)
}

/// strconv's `%e` with the shortest digits.
fn fmt_e(out: &mut String, digits: &[u8], dp: i32) {
    out.push(digits.first().map_or('0', |&d| d as char));
    if digits.len() > 1 {
        out.push('.');
        out.extend(digits[1..].iter().map(|&d| d as char));
    }
    out.push('e');
    let e = if digits.is_empty() { 0 } else { dp - 1 };
    out.push(if e < 0 { '-' } else { '+' });
    let e = e.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    out.push_str(&e.to_string());
}

/// strconv's `%f` with the shortest digits.
fn fmt_f(out: &mut String, digits: &[u8], dp: i32) {
    let nd = digits.len() as i32;
    if dp > 0 {
        for i in 0..dp {
            out.push(if i < nd {
                digits[i as usize] as char
            } else {
                '0'
            });
        }
    } else {
        out.push('0');
    }
    let prec = (nd - dp).max(0);
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let j = dp + i - 1;
            out.push(if j >= 0 && j < nd {
                digits[j as usize] as char
            } else {
                '0'
            });
        }
    }
}

/// A float as `encoding/json` writes it (finite values only).
pub(crate) fn json_float(out: &mut String, x: f64) {
    if x.is_sign_negative() {
        out.push('-');
    }
    let a = x.abs();
    let (digits, dp) = shortest(a);
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let start = out.len();
        fmt_e(out, &digits, dp);
        // Go cleans up e-09 to e-9.
        let b = &out.as_bytes()[start..];
        let n = b.len();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            out.remove(start + n - 2);
        }
    } else {
        fmt_f(out, &digits, dp);
    }
}

/// A float as `fmt` prints it with `%v` (`strconv.FormatFloat(x, 'g', -1, 64)`).
pub(crate) fn go_v_float(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("NaN");
        return;
    }
    if x.is_infinite() {
        out.push_str(if x > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if x.is_sign_negative() {
        out.push('-');
    }
    let (digits, dp) = shortest(x.abs());
    let exp = dp - 1;
    if !digits.is_empty() && !(-4..6).contains(&exp) {
        fmt_e(out, &digits, dp);
    } else {
        fmt_f(out, &digits, dp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit patterns from Go 1.27.3 on amd64: (x, Exp(x) with FMA, Exp(x)
    /// with GODEBUG=cpu.fma=off, Log(x)). (A one-off comparison on 217,200
    /// inputs, random and plot-like, found no difference in either path.)
    const GO: [[u64; 4]; 12] = [
        [
            0xc063898c42109cba,
            0x31d6c554e4da728d,
            0x31d6c554e4da728c,
            0x7ff8000000000001,
        ],
        [
            0x40402e4b12da9996,
            0x42d9c6ec9da08cc3,
            0x42d9c6ec9da08cc2,
            0x400bd0d80beeed7b,
        ],
        [
            0xc06690b82832f73f,
            0x2fa79b4494cf8101,
            0x2fa79b4494cf8100,
            0x7ff8000000000001,
        ],
        [
            0x403696af739e989d,
            0x41f80f022604f65f,
            0x41f80f022604f660,
            0x4008f08787d53a28,
        ],
        [
            0xc0580021199887c4,
            0x37469a0b222433a9,
            0x37469a0b222433aa,
            0x7ff8000000000001,
        ],
        [
            0x40424a610d3691b5,
            0x433b62bf453a2e21,
            0x433b62bf453a2e20,
            0x400ccbd717f52956,
        ],
        [
            0x3fb67016b00dd6ef,
            0x3ff177355e9bcdb7,
            0x3ff177355e9bcdb7,
            0xc00379b592092189,
        ],
        [
            0x3fe305ec3bdc8324,
            0x3ffcfe431d153331,
            0x3ffcfe431d153331,
            0xbfe0a47ec852dbcc,
        ],
        [
            0x401c8c2739f22514,
            0x4093a5efe2665605,
            0x4093a5efe2665605,
            0x3fff71c33b83f1d3,
        ],
        [
            0x402d45982b7ec3a1,
            0x4141546a5104edf6,
            0x4141546a5104edf6,
            0x400577c3f59211b2,
        ],
        [
            0xb80704bb7b4d7c03,
            0x3ff0000000000000,
            0x3ff0000000000000,
            0x7ff8000000000001,
        ],
        [
            0x433092fee49c1650,
            0x7ff0000000000000,
            0x7ff0000000000000,
            0x40420a19ca3db4e0,
        ],
    ];

    #[test]
    fn exp_log_like_go() {
        for [x, e_fma, e_plain, l] in GO {
            let x = f64::from_bits(x);
            assert_eq!(exp_with(x, true).to_bits(), e_fma, "Exp({x:e}) with FMA");
            assert_eq!(
                exp_with(x, false).to_bits(),
                e_plain,
                "Exp({x:e}) without FMA"
            );
            assert_eq!(exp(x).to_bits(), e_fma);
            assert_eq!(log(x).to_bits(), l, "Log({x:e})");
        }
    }

    fn j(x: f64) -> String {
        let mut s = String::new();
        json_float(&mut s, x);
        s
    }
    fn v(x: f64) -> String {
        let mut s = String::new();
        go_v_float(&mut s, x);
        s
    }

    #[test]
    fn json_floats() {
        assert_eq!(j(0.0), "0");
        assert_eq!(j(999.0), "999");
        assert_eq!(j(1e15), "1000000000000000");
        assert_eq!(j(1e21), "1e+21");
        assert_eq!(j(1e-7), "1e-7");
        assert_eq!(j(1.5e-7), "1.5e-7");
        assert_eq!(j(1e-6), "0.000001");
        assert_eq!(j(1.0 - 0.999), "0.0010000000000000009");
        assert_eq!(j(0.06208919358258534), "0.06208919358258534");
        assert_eq!(j(-2.5), "-2.5");
    }

    #[test]
    fn v_floats() {
        assert_eq!(v(0.0), "0");
        assert_eq!(v(1070156.872512), "1.070156872512e+06");
        assert_eq!(v(155.694848), "155.694848");
        assert_eq!(v(1e6), "1e+06");
        assert_eq!(v(123456.0), "123456");
        assert_eq!(v(0.0001), "0.0001");
        assert_eq!(v(0.00001), "1e-05");
        assert_eq!(v(1e100), "1e+100");
    }

    #[test]
    fn exp_log_special() {
        for fma in [false, true] {
            assert_eq!(exp_with(0.0, fma), 1.0);
            assert_eq!(exp_with(f64::NEG_INFINITY, fma), 0.0);
            assert_eq!(exp_with(1000.0, fma), f64::INFINITY);
            assert!(exp_with(f64::NAN, fma).is_nan());
        }
        assert_eq!(log(1.0), 0.0);
        assert_eq!(log(0.0), f64::NEG_INFINITY);
        assert!(log(-1.0).is_nan());
    }
}
