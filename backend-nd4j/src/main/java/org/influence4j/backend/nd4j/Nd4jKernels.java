package org.influence4j.backend.nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.influence4j.api.data.HostArray;
import org.influence4j.graph.Kernels;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The layer graph's primitive {@link Kernels} on ND4J {@link INDArray}s, for one model call.
 *
 * <p><b>Memory.</b> Every result is a new C- or F-ordered array that owns its buffer (never a view
 * of an argument, never an argument itself) and is registered with the call's {@link Nd4jArena},
 * which frees it when the call ends; the intermediates of the kernels made here of several ND4J
 * operations ({@link #tanh}, {@link #softplus}, {@link #argmaxMask}, ...) are freed before the kernel
 * returns. No kernel modifies its arguments (no in-place ND4J operation
 * is applied to an argument). All floating-point results are in the model's data type (FLOAT or
 * DOUBLE).
 *
 * <p><b>Precision.</b> ND4J's own {@code tanh}, {@code expm1} and {@code log1p} lose relative
 * accuracy near zero (they compute {@code 2/(1+e^{-2x}) − 1}, {@code e^x − 1} and {@code log(1+x)}:
 * relative errors of 1e-11 at x = 2e-6 and 6e-10 at x = 1e-7 in float64). {@link #tanh} (for
 * |x| &lt; 1/2) and {@link #softplus} therefore use Kahan's accurate forms ({@code expm1(y) = (e^y − 1)·y / log(e^y)},
 * {@code log1p(u) = log(1+u)·u / ((1+u) − 1)}, with the limits where the denominator is 0), which are
 * accurate to a few ulps for every input. {@link #argmaxMask} is computed with a cumulative count
 * of the maxima, so the first maximum wins whatever the threads of ND4J's arg-max do with ties.
 *
 * <p><b>Scatter.</b> With {@code nativeScatter}, {@link #scatterRows} is ND4J's {@code scatter_add}
 * run with its lock on (one thread, the rows added in index order, so every update counts; without
 * the lock, repeated indices race and updates are lost). It is meant for the CPU backend; elsewhere the default of
 * {@link Kernels} (a gather and a sum) is used.
 *
 * <p>Not thread-safe: one instance serves one call on one thread.
 */
final class Nd4jKernels implements Kernels<INDArray> {

    /** Below this |x|, ND4J's tanh loses relative accuracy (it is within 3 ulps above). */
    private static final double TANH_SERIES_LIMIT = 0.5;

    /** {@link #argmaxMask} counts ties in rows up to this wide by a product with a triangle of ones. */
    private static final long TRIANGLE_WIDTH = 64;

    private final Nd4jArena arena;
    private final DataType type;
    private final boolean nativeScatter;

    /**
     * @param arena         the call's arena: every result is registered with it
     * @param type          FLOAT or DOUBLE
     * @param nativeScatter whether {@link #scatterRows} uses ND4J's scatter-add (CPU backend)
     */
    Nd4jKernels(Nd4jArena arena, DataType type, boolean nativeScatter) {
        if (type != DataType.FLOAT && type != DataType.DOUBLE) {
            throw new IllegalArgumentException("type: FLOAT or DOUBLE, got " + type);
        }
        this.arena = arena;
        this.type = type;
        this.nativeScatter = nativeScatter;
    }

    /** @return a new C-order copy of {@code a} in the model's data type, owned by the call */
    INDArray copyOf(INDArray a) {
        if (a.dataType() == type) {
            return keep(a.dup('c'));
        }
        INDArray cast = a.castTo(type);
        if (cast.ordering() == 'c' && !cast.isView()) {
            return keep(cast);
        }
        try {
            return keep(cast.dup('c'));
        } finally {
            Nd4jArrays.free(cast);
        }
    }

    private INDArray keep(INDArray a) {
        return arena.t(a);
    }

    /** Runs {@code body} with kernels of a nested arena, closed on return; the results are copied into this arena. */
    @Override
    public List<INDArray> scopedAll(java.util.function.Function<Kernels<INDArray>, List<INDArray>> body) {
        try (Nd4jArena nested = new Nd4jArena()) {
            return body.apply(new Nd4jKernels(nested, type, nativeScatter)).stream().map(this::copyOf).toList();
        }
    }

    @Override
    public INDArray constant(double[] values, long... shape) {
        if (shapeSize(shape) != values.length) {
            throw new IllegalArgumentException("constant: " + values.length + " values for shape "
                    + Arrays.toString(shape));
        }
        return keep(Nd4jArrays.create(values, shape, type));
    }

    @Override
    public INDArray constant(HostArray values, long... shape) {
        if (shapeSize(shape) != values.size()) {
            throw new IllegalArgumentException("constant: " + values.size() + " values for shape "
                    + Arrays.toString(shape));
        }
        return keep(Nd4jArrays.create(values, shape, type));
    }

    @Override
    public long[] shape(INDArray a) {
        return a.shape().clone();
    }

    @Override
    public double[] toDoubles(INDArray a) {
        return Nd4jArrays.toDoubles(a);
    }

    @Override
    public INDArray add(INDArray a, INDArray b) {
        sameShape("add", a, b);
        return keep(a.add(b));
    }

    @Override
    public INDArray sub(INDArray a, INDArray b) {
        sameShape("sub", a, b);
        return keep(a.sub(b));
    }

    @Override
    public INDArray mul(INDArray a, INDArray b) {
        sameShape("mul", a, b);
        return keep(a.mul(b));
    }

    @Override
    public INDArray div(INDArray a, INDArray b) {
        sameShape("div", a, b);
        return keep(a.div(b));
    }

    @Override
    public INDArray scale(INDArray a, double c) {
        return keep(a.mul(c));
    }

    @Override
    public INDArray addScalar(INDArray a, double c) {
        return keep(a.add(c));
    }

    @Override
    public INDArray matmul(INDArray a, INDArray b) {
        long[] sa = a.shape();
        long[] sb = b.shape();
        boolean plain = sa.length == 2 && sb.length == 2 && sa[1] == sb[0];
        boolean batched = sa.length == 3 && sb.length == 3 && sa[0] == sb[0] && sa[2] == sb[1];
        if (!plain && !batched) {
            throw new IllegalArgumentException("matmul: shapes " + Arrays.toString(sa) + " and " + Arrays.toString(sb)
                    + " are neither [m, k]·[k, n] nor [b, m, k]·[b, k, n]");
        }
        long[] out = plain ? new long[] {sa[0], sb[1]} : new long[] {sa[0], sa[1], sb[2]};
        if (a.length() == 0 || b.length() == 0) {
            return keep(Nd4j.zeros(type, out)); // an empty inner dimension sums nothing
        }
        return keep(plain ? a.mmul(b) : Nd4j.matmul(a, b));
    }

    @Override
    public INDArray permute(INDArray a, int... axes) {
        if (axes.length != a.rank()) {
            throw new IllegalArgumentException("permute: " + axes.length + " axes for rank " + a.rank());
        }
        // ND4J's permute is a view of a's buffer: copy it into a new C-order array
        return keep(a.permute(axes.clone()).dup('c'));
    }

    @Override
    public INDArray reshape(INDArray a, long... shape) {
        return keep(Nd4jArrays.reshapedCopy(a, shape));
    }

    @Override
    public INDArray expand(INDArray a, long... shape) {
        long[] s = a.shape();
        if (s.length != shape.length) {
            throw new IllegalArgumentException("expand: " + Arrays.toString(s) + " to " + Arrays.toString(shape)
                    + " changes the rank");
        }
        boolean same = true;
        for (int i = 0; i < s.length; i++) {
            if (s[i] != shape[i] && s[i] != 1) {
                throw new IllegalArgumentException("expand: " + Arrays.toString(s) + " to " + Arrays.toString(shape)
                        + ": only axes of size 1 grow");
            }
            same &= s[i] == shape[i];
        }
        if (same) {
            return keep(a.dup()); // ND4J's broadcast returns the array itself here
        }
        if (a.length() == 0 || shapeSize(shape) == 0) {
            return keep(Nd4j.zeros(type, shape));
        }
        return keep(broadcastTo(a, shape));
    }

    /**
     * @return a new array of {@code shape} holding {@code a} repeated along its axes of size 1, as zeros
     *     plus {@code a} with ND4J's native broadcasting add (exact; a −0 becomes +0).
     *     {@code INDArray.broadcast} copies slice by slice in Java (68 ms for a bias row to 4,096
     *     rows) and the {@code broadcast_to} op computes an offset per entry (5-8 times slower than the
     *     add)
     */
    private static INDArray broadcastTo(INDArray a, long[] shape) {
        return Nd4j.zeros(a.dataType(), shape.clone()).addi(a);
    }

    @Override
    public INDArray sumTo(INDArray a, long... shape) {
        long[] s = a.shape();
        if (s.length != shape.length) {
            throw new IllegalArgumentException("sumTo: " + Arrays.toString(s) + " to " + Arrays.toString(shape)
                    + " changes the rank");
        }
        List<Integer> axes = new ArrayList<>();
        for (int i = 0; i < s.length; i++) {
            if (shape[i] == 1 && s[i] != 1) {
                axes.add(i);
            } else if (shape[i] != s[i]) {
                throw new IllegalArgumentException("sumTo: " + Arrays.toString(s) + " to " + Arrays.toString(shape)
                        + ": only axes of size 1 in the target are summed");
            }
        }
        if (axes.isEmpty()) {
            return keep(a.dup());
        }
        if (a.length() == 0) {
            return keep(Nd4j.zeros(type, shape));
        }
        int[] dims = axes.stream().mapToInt(Integer::intValue).toArray();
        return keep(a.sum(true, dims));
    }

    @Override
    public INDArray exp(INDArray a) {
        return keep(Transforms.exp(a, true));
    }

    @Override
    public INDArray log(INDArray a) {
        return keep(Transforms.log(a, true));
    }

    /**
     * {@inheritDoc}
     *
     * <p>ND4J's tanh where {@code |x| ≥ 1/2} (within 3 ulps there, and ±1, NaN for ±∞, NaN); below,
     * where it is not accurate, {@code sign(x)·(−expm1(−2|x|))/(1 + e^{−2|x|})} with Kahan's expm1 (see
     * the class comment). Accurate to a few ulps for every x.
     */
    @Override
    public INDArray tanh(INDArray a) {
        try (Nd4jArena tmp = new Nd4jArena()) {
            INDArray y = tmp.t(Transforms.abs(a, true));
            INDArray near = tmp.t(tmp.t(y.lt(TANH_SERIES_LIMIT)).castTo(type)); // 1 where |x| < 1/2 (0 for NaN)
            Transforms.min(y, TANH_SERIES_LIMIT, false); // the clamped entries are masked out below
            y.muli(-2.0); // in [−1, 0]
            INDArray u = tmp.t(Transforms.exp(y, true)); // in [e^−1, 1]
            // Kahan: expm1(y) = (u − 1)·y / log u, and y where u = 1 (u − 1 = 0 there, so the quotient is 0)
            INDArray atOne = tmp.t(tmp.t(u.eq(1.0)).castTo(type));
            INDArray log = tmp.t(Transforms.log(u, true)).addi(atOne);
            INDArray expm1 = tmp.t(u.sub(1.0)).muli(y).divi(log).addi(tmp.t(y.mul(atOne)));
            // (1 − e^{−2|x|}) / (1 + e^{−2|x|}), without the cancellation of ND4J's 2/(1 + e^{−2x}) − 1
            INDArray small = expm1.negi().divi(tmp.t(u.add(1.0))).muli(tmp.t(Transforms.sign(a, true)));
            INDArray far = tmp.t(Transforms.tanh(a, true)).muli(tmp.t(near.rsub(1.0)));
            return keep(small.mul(near).addi(far));
        }
    }

    /** @return {@code log(1 + u)} for {@code u ≥ 0} (Kahan: {@code log(w)·u / (w − 1)}, w = 1 + u, and u where w = 1); a temporary */
    private static INDArray log1p(Nd4jArena tmp, INDArray u) {
        INDArray w = tmp.t(u.add(1.0));
        INDArray one = tmp.t(tmp.t(w.eq(1.0)).castTo(u.dataType()));
        INDArray d = tmp.t(w.sub(1.0)).addi(one);
        INDArray log = tmp.t(Transforms.log(w, true));
        // where w = 1: log w = 0, so the quotient is 0 and the u·one term gives u
        return tmp.t(log.mul(u)).divi(d).addi(tmp.t(u.mul(one)));
    }

    @Override
    public INDArray sigmoid(INDArray a) {
        return keep(Transforms.sigmoid(a, true));
    }

    @Override
    public INDArray erf(INDArray a) {
        INDArray out = keep(a.ulike());
        Nd4j.exec(new Erf(a, out));
        return out;
    }

    @Override
    public INDArray sqrt(INDArray a) {
        return keep(Transforms.sqrt(a, true));
    }

    /**
     * {@inheritDoc}
     *
     * <p>{@code max(x, 0) + log1p(e^{−|x|})}, with Kahan's log1p (see the class comment): no overflow,
     * and relative accuracy also for very negative x (where the value is about e^x).
     */
    @Override
    public INDArray softplus(INDArray a) {
        try (Nd4jArena tmp = new Nd4jArena()) {
            INDArray e = tmp.t(Transforms.abs(a, true)).negi();
            Transforms.exp(e, false);
            INDArray tail = log1p(tmp, e);
            INDArray positive = tmp.t(Transforms.max(a, 0.0, true));
            return keep(positive.add(tail));
        }
    }

    @Override
    public INDArray greaterMask(INDArray a, double threshold) {
        INDArray bool = a.gt(threshold);
        try {
            return keep(bool.castTo(type));
        } finally {
            Nd4jArrays.free(bool);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>The positions equal to the maximum, kept where their running count along the axis is 1.
     */
    @Override
    public INDArray argmaxMask(INDArray a) {
        long[] s = a.shape();
        int last = s.length - 1;
        if (a.length() == 0) {
            return keep(Nd4j.zeros(type, s));
        }
        if (s[last] == 1) {
            return keep(Nd4j.ones(type, s)); // one entry per row: it is the row's first maximum
        }
        try (Nd4jArena tmp = new Nd4jArena()) {
            INDArray max = tmp.t(broadcastTo(tmp.t(a.max(true, last)), s));
            INDArray isMax = tmp.t(tmp.t(a.eq(max)).castTo(type));
            INDArray count = runningCounts(isMax, tmp);
            INDArray first = tmp.t(tmp.t(count.eq(1.0)).castTo(type));
            return keep(isMax.mul(first));
        }
    }

    /**
     * @return the running sums of the 0/1 entries of {@code flags} along its last axis, exact: for
     *     narrow rows (a pool's windows) the product of the rows with the upper triangle of ones
     *     (w² multiply-adds per row), since ND4J's {@code cumsum} loops over the rows in Java (1.1 s
     *     for 74,000 windows of 4); wider rows take {@code cumsum}. What it allocates is registered
     *     with {@code tmp}; the result may be a view of it
     */
    private INDArray runningCounts(INDArray flags, Nd4jArena tmp) {
        long[] s = flags.shape();
        long w = s[s.length - 1];
        if (w > TRIANGLE_WIDTH) {
            return tmp.t(flags.cumsum(s.length - 1));
        }
        INDArray triangle = tmp.t(Nd4j.zeros(type, w, w));
        for (long i = 0; i < w; i++) {
            for (long j = i; j < w; j++) {
                triangle.putScalar(i, j, 1.0);
            }
        }
        INDArray rows = tmp.t(flags.dup('c').reshape('c', flags.length() / w, w));
        return tmp.t(rows.mmul(triangle)).reshape('c', s);
    }

    @Override
    public INDArray maxLast(INDArray a) {
        return keep(a.max(true, a.rank() - 1));
    }

    @Override
    public INDArray gatherRows(INDArray a, int[] index) {
        long[] s = requireMatrix("gatherRows", a);
        checkRows("gatherRows", index, s[0]);
        if (index.length == 0 || s[1] == 0) {
            return keep(Nd4j.zeros(type, index.length, s[1]));
        }
        return keep(Nd4j.pullRows(a, 1, index.clone()));
    }

    @Override
    public INDArray slicePadRows(INDArray a, long from, long to) {
        long[] s = requireMatrix("slicePadRows", a);
        if (to < from) {
            throw new IllegalArgumentException("slicePadRows: rows [" + from + ", " + to + ")");
        }
        long lo = Math.max(from, 0);
        long hi = Math.min(to, s[0]);
        if (from == 0 && to == s[0]) {
            return keep(a.dup());
        }
        INDArray out = keep(Nd4j.zeros(type, to - from, s[1]));
        if (hi > lo && s[1] > 0) {
            out.get(NDArrayIndex.interval(lo - from, hi - from), NDArrayIndex.all())
                    .assign(a.get(NDArrayIndex.interval(lo, hi), NDArrayIndex.all()));
        }
        return out;
    }

    @Override
    public INDArray concat(List<INDArray> arrays, int axis) {
        if (arrays.isEmpty()) {
            throw new IllegalArgumentException("concat: no arrays");
        }
        long[] s = arrays.get(0).shape();
        long total = 0;
        List<INDArray> parts = new ArrayList<>(arrays.size());
        for (INDArray x : arrays) {
            long[] xs = x.shape();
            if (xs.length != s.length) {
                throw new IllegalArgumentException("concat: ranks differ");
            }
            for (int d = 0; d < s.length; d++) {
                if (d != axis && xs[d] != s[d]) {
                    throw new IllegalArgumentException("concat: shapes " + Arrays.toString(s) + " and "
                            + Arrays.toString(xs) + " differ off axis " + axis);
                }
            }
            total += xs[axis];
            if (x.length() > 0) {
                parts.add(x);
            }
        }
        long[] out = s.clone();
        out[axis] = total;
        if (parts.isEmpty()) {
            return keep(Nd4j.zeros(type, out));
        }
        if (parts.size() == 1) {
            return keep(parts.get(0).dup()); // ND4J's concat returns a single array itself
        }
        return keep(Nd4j.concat(axis, parts.toArray(new INDArray[0])));
    }

    /**
     * {@inheritDoc}
     *
     * <p>With {@code nativeScatter}: ND4J's {@code scatter_add} into a new zero matrix, locked (one
     * thread, indices in order), so that repeated rows all add up; otherwise the default.
     */
    @Override
    public INDArray scatterRows(INDArray g, int[] index, int m) {
        if (!nativeScatter) {
            return Kernels.super.scatterRows(g, index, m);
        }
        long[] s = requireMatrix("scatterRows", g);
        if (s[0] != index.length) {
            throw new IllegalArgumentException("scatterRows: " + s[0] + " rows for " + index.length + " indices");
        }
        checkRows("scatterRows", index, m);
        INDArray out = keep(Nd4j.zeros(type, m, s[1]));
        if (index.length == 0 || s[1] == 0) {
            return out;
        }
        INDArray rows = Nd4j.createFromArray(index.clone());
        try {
            Nd4j.exec(DynamicCustomOp.builder("scatter_add")
                    .addInputs(out, rows, g)
                    .addOutputs(out)
                    .addBooleanArguments(true, false) // lock (sequential: repeated rows do not race); indices checked above
                    .build());
        } finally {
            Nd4jArrays.free(rows);
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------

    private static void sameShape(String op, INDArray a, INDArray b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()) + " differ (broadcasting is explicit: expand, sumTo)");
        }
    }

    private static long[] requireMatrix(String op, INDArray a) {
        long[] s = a.shape();
        if (s.length != 2) {
            throw new IllegalArgumentException(op + ": expected a matrix, got shape " + Arrays.toString(s));
        }
        return s;
    }

    private static void checkRows(String op, int[] index, long m) {
        for (int r : index) {
            if (r < 0 || r >= m) {
                throw new IllegalArgumentException(op + ": row " + r + " is outside [0, " + m + ")");
            }
        }
    }

    private static long shapeSize(long[] shape) {
        long size = 1;
        for (long d : shape) {
            size *= d;
        }
        return size;
    }
}
