package org.influence4j.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small automatic differentiation over a backend's {@link Kernels}: reverse mode with double
 * backward (every adjoint is itself computed with recorded operations, so the gradient of a
 * gradient, Hessian-vector products and mixed derivatives are exact), and forward mode
 * ({@link #jvp}: Jacobian-vector products of a recorded computation, one sweep in the direction
 * of its evaluation). Nothing is freed here: the arrays live in the kernels' memory context,
 * which the caller closes at the end of one model call.
 *
 * <p>Not thread-safe: one instance serves one call on one thread.
 *
 * @param <A> the backend's array type
 */
public final class Autodiff<A> {

    /** Computes the adjoints of an operation's inputs from the adjoint of its output. */
    @FunctionalInterface
    interface Adjoint<A> {
        /** @return one adjoint per input (null where an input needs none) */
        List<Var<A>> of(Var<A> outputGrad);
    }

    /** Computes the tangent of an operation's output from its inputs' tangents (forward mode). */
    @FunctionalInterface
    interface Tangent<A> {
        /**
         * @param inputTangents one per input, shaped like it; null where an input's tangent is zero
         *     (at least one is not)
         */
        Var<A> of(List<Var<A>> inputTangents);
    }

    /**
     * A value in the recorded computation: an array, whether derivatives flow through it, how to
     * send an output adjoint to its inputs and how to make its tangent from theirs.
     *
     * @param <A> the backend's array type
     */
    public static final class Var<A> {
        private final A value;
        private final boolean requiresGrad;
        private final List<Var<A>> inputs;
        private final Adjoint<A> adjoint;
        private final Tangent<A> tangent;

        private Var(A value, boolean requiresGrad, List<Var<A>> inputs, Adjoint<A> adjoint, Tangent<A> tangent) {
            this.value = value;
            this.requiresGrad = requiresGrad;
            this.inputs = inputs;
            this.adjoint = adjoint;
            this.tangent = tangent;
        }

        /** @return the array */
        public A value() {
            return value;
        }

        /** @return whether derivatives flow through this value */
        public boolean requiresGrad() {
            return requiresGrad;
        }
    }

    private Kernels<A> k;
    private boolean recording = true;

    /** @param kernels the backend kernels bound to the current call's memory context */
    public Autodiff(Kernels<A> kernels) {
        this.k = kernels;
    }

    /** @return the kernels of the current memory context */
    public Kernels<A> kernels() {
        return k;
    }

    /**
     * Computes {@code body} in a nested memory context ({@link Kernels#scopedAll}): every array made
     * meanwhile is freed on return except the result's, which is returned as a constant of this
     * context. Values recorded outside may be used inside; values made inside must not escape.
     */
    public Var<A> scoped(java.util.function.Supplier<Var<A>> body) {
        return constant(scopedAll(() -> List.of(body.get().value())).get(0));
    }

    /**
     * {@link #scoped} for a body with several arrays as results ({@link Kernels#scopedAll}), returned
     * as arrays of this context.
     */
    public List<A> scopedAll(java.util.function.Supplier<List<A>> body) {
        return k.scopedAll(child -> {
            Kernels<A> saved = k;
            k = child;
            try {
                return body.get();
            } finally {
                k = saved;
            }
        });
    }

    /** @return a value derivatives are taken with respect to */
    public Var<A> leaf(A value) {
        return new Var<>(value, true, List.of(), null, null);
    }

    /** @return a constant (no derivatives flow through it) */
    public Var<A> constant(A value) {
        return new Var<>(value, false, List.of(), null, null);
    }

    /** @return a new constant array holding {@code values} with {@code shape} */
    public Var<A> constant(double[] values, long... shape) {
        return constant(k.constant(values, shape));
    }

    @SafeVarargs
    private Var<A> op(A value, Adjoint<A> adjoint, Tangent<A> tangent, Var<A>... inputs) {
        boolean grad = false;
        if (recording) {
            for (Var<A> in : inputs) {
                grad |= in.requiresGrad;
            }
        }
        return grad ? new Var<>(value, true, List.of(inputs), adjoint, tangent) : constant(value);
    }

    /** An operation of one input whose tangent is {@code map} of the input's (the operation itself if linear). */
    private Var<A> linearOp(A value, Adjoint<A> adjoint, java.util.function.UnaryOperator<Var<A>> map, Var<A> input) {
        return op(value, adjoint, t -> map.apply(t.get(0)), input);
    }

    /** @return {@code a + b} where either may be null (a zero tangent), null when both are */
    private Var<A> plus(Var<A> a, Var<A> b) {
        return a == null ? b : b == null ? a : add(a, b);
    }

    /** @return the shape of {@code x} */
    public long[] shape(Var<A> x) {
        return k.shape(x.value);
    }

    // ---------------------------------------------------------------------------------------------
    // operations with their adjoints

    public Var<A> add(Var<A> a, Var<A> b) {
        return op(k.add(a.value, b.value), g -> List.of(g, g), t -> plus(t.get(0), t.get(1)), a, b);
    }

    public Var<A> sub(Var<A> a, Var<A> b) {
        return op(k.sub(a.value, b.value), g -> Arrays.asList(g, b.requiresGrad ? scale(g, -1) : null),
                t -> t.get(1) == null ? t.get(0) : t.get(0) == null ? scale(t.get(1), -1) : sub(t.get(0), t.get(1)),
                a, b);
    }

    public Var<A> mul(Var<A> a, Var<A> b) {
        return op(k.mul(a.value, b.value), g -> Arrays.asList(a.requiresGrad ? mul(g, b) : null,
                b.requiresGrad ? mul(g, a) : null),
                t -> plus(t.get(0) == null ? null : mul(t.get(0), b), t.get(1) == null ? null : mul(a, t.get(1))),
                a, b);
    }

    public Var<A> div(Var<A> a, Var<A> b) {
        Var<A>[] out = newArray();
        out[0] = op(k.div(a.value, b.value), g -> Arrays.asList(a.requiresGrad ? div(g, b) : null,
                b.requiresGrad ? scale(div(mul(g, out[0]), b), -1) : null),
                t -> plus(t.get(0) == null ? null : div(t.get(0), b),
                        t.get(1) == null ? null : scale(div(mul(t.get(1), out[0]), b), -1)), a, b);
        return out[0];
    }

    public Var<A> scale(Var<A> a, double c) {
        return linearOp(k.scale(a.value, c), g -> List.of(scale(g, c)), t -> scale(t, c), a);
    }

    public Var<A> addScalar(Var<A> a, double c) {
        return linearOp(k.addScalar(a.value, c), g -> List.of(g), t -> t, a);
    }

    /** Matrix product (see {@link Kernels#matmul}). */
    public Var<A> matmul(Var<A> a, Var<A> b) {
        int rank = shape(a).length;
        int[] t = rank == 2 ? new int[] {1, 0} : new int[] {0, 2, 1};
        return op(k.matmul(a.value, b.value), g -> Arrays.asList(a.requiresGrad ? matmul(g, permute(b, t)) : null,
                b.requiresGrad ? matmul(permute(a, t), g) : null),
                d -> plus(d.get(0) == null ? null : matmul(d.get(0), b), d.get(1) == null ? null : matmul(a, d.get(1))),
                a, b);
    }

    public Var<A> permute(Var<A> a, int... axes) {
        int[] inverse = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            inverse[axes[i]] = i;
        }
        return linearOp(k.permute(a.value, axes), g -> List.of(permute(g, inverse)), t -> permute(t, axes), a);
    }

    public Var<A> reshape(Var<A> a, long... shape) {
        long[] original = shape(a);
        if (Arrays.equals(original, shape)) {
            return a;
        }
        return linearOp(k.reshape(a.value, shape), g -> List.of(reshape(g, original)), t -> reshape(t, shape), a);
    }

    public Var<A> expand(Var<A> a, long... shape) {
        long[] original = shape(a);
        if (Arrays.equals(original, shape)) {
            return a;
        }
        return linearOp(k.expand(a.value, shape), g -> List.of(sumTo(g, original)), t -> expand(t, shape), a);
    }

    public Var<A> sumTo(Var<A> a, long... shape) {
        long[] original = shape(a);
        if (Arrays.equals(original, shape)) {
            return a;
        }
        return linearOp(k.sumTo(a.value, shape), g -> List.of(expand(g, original)), t -> sumTo(t, shape), a);
    }

    public Var<A> exp(Var<A> a) {
        Var<A>[] out = newArray();
        out[0] = op(k.exp(a.value), g -> List.of(mul(g, out[0])), t -> mul(t.get(0), out[0]), a);
        return out[0];
    }

    public Var<A> log(Var<A> a) {
        return op(k.log(a.value), g -> List.of(div(g, a)), t -> div(t.get(0), a), a);
    }

    public Var<A> tanh(Var<A> a) {
        Var<A>[] out = newArray();
        out[0] = op(k.tanh(a.value), g -> List.of(sub(g, mul(g, mul(out[0], out[0])))),
                t -> sub(t.get(0), mul(t.get(0), mul(out[0], out[0]))), a);
        return out[0];
    }

    public Var<A> sigmoid(Var<A> a) {
        Var<A>[] out = newArray();
        out[0] = op(k.sigmoid(a.value), g -> List.of(mul(g, sub(out[0], mul(out[0], out[0])))),
                t -> mul(t.get(0), sub(out[0], mul(out[0], out[0]))), a);
        return out[0];
    }

    /** erf, with {@code erf'(x) = 2/√π · exp(−x²)}. */
    public Var<A> erf(Var<A> a) {
        java.util.function.UnaryOperator<Var<A>> times = g -> mul(g, scale(exp(scale(mul(a, a), -1)),
                2 / Math.sqrt(Math.PI)));
        return op(k.erf(a.value), g -> List.of(times.apply(g)), t -> times.apply(t.get(0)), a);
    }

    public Var<A> sqrt(Var<A> a) {
        Var<A>[] out = newArray();
        out[0] = op(k.sqrt(a.value), g -> List.of(scale(div(g, out[0]), 0.5)), t -> scale(div(t.get(0), out[0]), 0.5),
                a);
        return out[0];
    }

    /** {@code log(1 + eˣ)} without threshold, with derivative {@code sigmoid(x)}. */
    public Var<A> softplus(Var<A> a) {
        return op(k.softplus(a.value), g -> List.of(mul(g, sigmoid(a))), t -> mul(t.get(0), sigmoid(a)), a);
    }

    /** Rows of a matrix {@code [m, c]} (see {@link Kernels#gatherRows}). */
    public Var<A> gatherRows(Var<A> a, int[] index) {
        int m = (int) shape(a)[0];
        return linearOp(k.gatherRows(a.value, index), g -> List.of(scatterRows(g, index, m)),
                t -> gatherRows(t, index), a);
    }

    /** The adjoint of {@link #gatherRows}. */
    public Var<A> scatterRows(Var<A> g, int[] index, int m) {
        return linearOp(k.scatterRows(g.value, index, m), h -> List.of(gatherRows(h, index)),
                t -> scatterRows(t, index, m), g);
    }

    /**
     * The maxima along the last axis, {@code [..., 1]}: the values of {@code scores} ({@code a} plus a
     * constant penalty of 0 or −∞, so the maxima are values of {@code a}); the gradient flows to the
     * first maximum of each row, as max-pooling's does. The one-hot mask of the maxima is made once,
     * with the value, and only when {@code a} needs a gradient (double backward passes reuse it).
     */
    public Var<A> firstMaxLast(Var<A> a, A scores) {
        if (!a.requiresGrad) {
            return constant(k.maxLast(scores));
        }
        long[] full = shape(a);
        Var<A> mask = constant(k.argmaxMask(scores));
        long[] kept = full.clone();
        kept[kept.length - 1] = 1;
        return linearOp(k.maxLast(scores), g -> List.of(mul(expand(g, full), mask)), t -> sumTo(mul(t, mask), kept),
                a);
    }

    /**
     * An operation of one input, linear in it near its value (a max pool with its mask fixed), with
     * a recorded adjoint: second derivatives flow through it.
     *
     * @param value   the operation's value
     * @param input   its input
     * @param adjoint from the output adjoint, the input adjoint, written with recorded operations
     * @param map     the operation itself, applied to a tangent of the input (forward mode)
     */
    public Var<A> linear(A value, Var<A> input, java.util.function.UnaryOperator<Var<A>> adjoint,
                         java.util.function.UnaryOperator<Var<A>> map) {
        return linearOp(value, g -> List.of(adjoint.apply(g)), map, input);
    }

    /**
     * An operation computed elsewhere (a native kernel) with recorded adjoints: {@code adjoint} maps
     * the output adjoint to one adjoint per input (null for an input that needs none), written with
     * recorded operations, so second derivatives flow through it.
     *
     * @param value   the operation's value
     * @param inputs  its inputs
     * @param tangent from the inputs' tangents (null where zero, at least one not), the output's
     *                tangent (forward mode)
     */
    public Var<A> custom(A value, List<Var<A>> inputs, java.util.function.Function<Var<A>, List<Var<A>>> adjoint,
                         java.util.function.Function<List<Var<A>>, Var<A>> tangent) {
        @SuppressWarnings("unchecked")
        Var<A>[] array = inputs.toArray(new Var[0]);
        return op(value, adjoint::apply, tangent::apply, array);
    }

    /** Columns of a matrix with a zero column for index {@code c} (see {@link Kernels#gatherPaddedColumns}). */
    public Var<A> gatherPaddedColumns(Var<A> a, int[] index) {
        int c = (int) shape(a)[1];
        return linearOp(k.gatherPaddedColumns(a.value, index), g -> List.of(scatterPaddedColumns(g, index, c)),
                t -> gatherPaddedColumns(t, index), a);
    }

    /** The adjoint of {@link #gatherPaddedColumns}. */
    public Var<A> scatterPaddedColumns(Var<A> g, int[] index, int c) {
        return linearOp(k.scatterPaddedColumns(g.value, index, c), h -> List.of(gatherPaddedColumns(h, index)),
                t -> scatterPaddedColumns(t, index, c), g);
    }

    /** im2col (see {@link Kernels#windows}); the adjoint is {@link #windowSums}. */
    public Var<A> windows(Var<A> x, Kernels.Windows windows) {
        long[] s = shape(x);
        return linearOp(k.windows(x.value, windows), g -> List.of(windowSums(g, windows, s)),
                t -> windows(t, windows), x);
    }

    /** The adjoint of {@link #windows} (see {@link Kernels#windowSums}). */
    public Var<A> windowSums(Var<A> g, Kernels.Windows windows, long[] inputShape) {
        return linearOp(k.windowSums(g.value, windows, inputShape), h -> List.of(windows(h, windows)),
                t -> windowSums(t, windows, inputShape), g);
    }

    /** Rows {@code [from, to)} with zero rows outside the matrix (see {@link Kernels#slicePadRows}). */
    public Var<A> slicePadRows(Var<A> a, long from, long to) {
        long m = shape(a)[0];
        return linearOp(k.slicePadRows(a.value, from, to), g -> List.of(slicePadRows(g, -from, m - from)),
                t -> slicePadRows(t, from, to), a);
    }

    /** The arrays joined along {@code axis}. */
    public Var<A> concat(List<Var<A>> parts, int axis) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        List<A> values = new ArrayList<>(parts.size());
        long[] sizes = new long[parts.size()];
        for (int i = 0; i < parts.size(); i++) {
            values.add(parts.get(i).value);
            sizes[i] = shape(parts.get(i))[axis];
        }
        @SuppressWarnings("unchecked")
        Var<A>[] inputs = parts.toArray(new Var[0]);
        return op(k.concat(values, axis), g -> {
            List<Var<A>> out = new ArrayList<>();
            Var<A> moved = axis == 0 ? g : permute(g, swap(shape(g).length, axis));
            long from = 0;
            for (long size : sizes) {
                long[] s = shape(moved);
                long rest = 1;
                for (int d = 1; d < s.length; d++) {
                    rest *= s[d];
                }
                Var<A> rows = reshape(slicePadRows(reshape(moved, s[0], rest), from, from + size),
                        withFirst(s, size));
                out.add(axis == 0 ? rows : permute(rows, swap(s.length, axis)));
                from += size;
            }
            return out;
        }, t -> {
            List<Var<A>> tangents = new ArrayList<>(t.size());
            for (int i = 0; i < t.size(); i++) {
                tangents.add(t.get(i) != null ? t.get(i) : constant(k.zeros(shape(parts.get(i)))));
            }
            return concat(tangents, axis);
        }, inputs);
    }

    private static int[] swap(int rank, int axis) {
        int[] p = new int[rank];
        for (int i = 0; i < rank; i++) {
            p[i] = i;
        }
        p[0] = axis;
        p[axis] = 0;
        return p;
    }

    private static long[] withFirst(long[] shape, long first) {
        long[] s = shape.clone();
        s[0] = first;
        return s;
    }

    /** @return the sum of all elements, shape {@code [1]} */
    public Var<A> sumAll(Var<A> a) {
        long[] s = shape(a);
        long size = 1;
        for (long d : s) {
            size *= d;
        }
        return sumTo(reshape(a, 1, size), 1, 1);
    }

    @SuppressWarnings("unchecked")
    private static <A> Var<A>[] newArray() {
        return new Var[1];
    }

    // ---------------------------------------------------------------------------------------------
    // gradients

    /**
     * Reverse-mode gradients of {@code Σ ⟨seed, y⟩} with respect to {@code wrt}.
     *
     * @param y      the value to differentiate
     * @param seed   the adjoint of {@code y} (same shape), or null for a {@code [1]}-shaped y (seed 1)
     * @param wrt    the values to differentiate with respect to
     * @param create whether the gradients are themselves recorded (for a second derivative)
     * @return one gradient per entry of {@code wrt}, in order; a zero array where {@code y} does not
     *     depend on it
     */
    public List<Var<A>> grad(Var<A> y, Var<A> seed, List<Var<A>> wrt, boolean create) {
        boolean saved = recording;
        recording = create;
        try {
            Map<Var<A>, Var<A>> grads = new IdentityHashMap<>();
            grads.put(y, seed != null ? seed : constant(new double[] {1}, shape(y)));
            List<Var<A>> order = topologicalOrder(y);
            Map<Var<A>, Boolean> relevant = relevant(order, wrt);
            for (Var<A> v : order) {
                Var<A> g = grads.get(v);
                if (g == null || v.adjoint == null || !relevant.containsKey(v)) {
                    continue;
                }
                List<Var<A>> inputGrads = v.adjoint.of(g);
                for (int i = 0; i < v.inputs.size(); i++) {
                    Var<A> in = v.inputs.get(i);
                    Var<A> gi = inputGrads.get(i);
                    if (gi == null || !in.requiresGrad || !relevant.containsKey(in)) {
                        continue;
                    }
                    Var<A> previous = grads.get(in);
                    grads.put(in, previous == null ? gi : add(previous, gi));
                }
            }
            List<Var<A>> out = new ArrayList<>(wrt.size());
            for (Var<A> w : wrt) {
                Var<A> g = grads.get(w);
                if (g == null) {
                    g = constant(k.zeros(shape(w)));
                }
                out.add(create ? g : constant(g.value));
            }
            return out;
        } finally {
            recording = saved;
        }
    }

    /**
     * Forward mode: the derivative of {@code y} in the direction {@code tangents} of {@code wrt},
     * {@code Σ_t ∂y/∂wrt_t · tangents_t}, in one sweep over the recorded operations from the inputs
     * to {@code y}. The result is a constant (not recorded).
     *
     * @param y        a recorded value
     * @param wrt      values {@code y} was computed from
     * @param tangents one per entry of {@code wrt}, shaped like it
     * @return shaped like {@code y}; zeros where {@code y} does not depend on {@code wrt}
     */
    public Var<A> jvp(Var<A> y, List<Var<A>> wrt, List<Var<A>> tangents) {
        boolean saved = recording;
        recording = false;
        try {
            Map<Var<A>, Var<A>> t = new IdentityHashMap<>();
            for (int i = 0; i < wrt.size(); i++) {
                t.put(wrt.get(i), tangents.get(i));
            }
            List<Var<A>> order = topologicalOrder(y);
            for (int i = order.size() - 1; i >= 0; i--) {
                Var<A> v = order.get(i);
                if (v.inputs.isEmpty() || t.containsKey(v)) {
                    continue;
                }
                List<Var<A>> in = new ArrayList<>(v.inputs.size());
                boolean any = false;
                for (Var<A> x : v.inputs) {
                    Var<A> tx = t.get(x);
                    in.add(tx);
                    any |= tx != null;
                }
                if (any) {
                    if (v.tangent == null) {
                        throw new IllegalStateException("a recorded operation has no tangent rule: forward mode cannot"
                                + " pass it; record it with one");
                    }
                    t.put(v, v.tangent.of(in));
                }
            }
            Var<A> out = t.get(y);
            return out != null ? out : constant(k.zeros(shape(y)));
        } finally {
            recording = saved;
        }
    }

    /**
     * @return the values of {@code order} (outputs before inputs) from which some value of
     *     {@code wrt} is reachable: only their adjoints are needed (the others are not computed)
     */
    private Map<Var<A>, Boolean> relevant(List<Var<A>> order, List<Var<A>> wrt) {
        Map<Var<A>, Boolean> out = new IdentityHashMap<>();
        for (Var<A> w : wrt) {
            out.put(w, Boolean.TRUE);
        }
        for (int i = order.size() - 1; i >= 0; i--) {
            Var<A> v = order.get(i);
            for (Var<A> in : v.inputs) {
                if (out.containsKey(in)) {
                    out.put(v, Boolean.TRUE);
                    break;
                }
            }
        }
        return out;
    }

    /** @return the values {@code y} depends on through recorded operations, outputs before inputs */
    private List<Var<A>> topologicalOrder(Var<A> y) {
        List<Var<A>> postOrder = new ArrayList<>();
        Map<Var<A>, Boolean> seen = new IdentityHashMap<>();
        // iterative depth-first search (graphs of long chains must not overflow the stack)
        List<Var<A>> stack = new ArrayList<>();
        List<Integer> next = new ArrayList<>();
        stack.add(y);
        next.add(0);
        seen.put(y, Boolean.TRUE);
        while (!stack.isEmpty()) {
            int top = stack.size() - 1;
            Var<A> v = stack.get(top);
            int i = next.get(top);
            if (i < v.inputs.size()) {
                next.set(top, i + 1);
                Var<A> in = v.inputs.get(i);
                if (in.requiresGrad && seen.put(in, Boolean.TRUE) == null) {
                    stack.add(in);
                    next.add(0);
                }
            } else {
                postOrder.add(v);
                stack.remove(top);
                next.remove(top);
            }
        }
        java.util.Collections.reverse(postOrder);
        return postOrder;
    }
}
