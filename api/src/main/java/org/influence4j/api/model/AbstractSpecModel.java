package org.influence4j.api.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.influence4j.api.Backend;
import org.influence4j.api.DenseLayerFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorChecks;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.slf4j.LoggerFactory;

/**
 * The backend-independent part of a {@link TwiceDifferentiable} built from a {@link ModelSpec}:
 * the spec, the backend, p, a host copy of θ, the open/closed state, and the argument checks every
 * call makes, with the same exception messages on every backend. Subclasses hold θ in backend
 * memory and compute the losses and derivatives.
 *
 * <p><b>What a subclass supplies.</b>
 * <ul>
 *   <li>its constructor calls {@code super(backend, spec, parameters)} (which validates the
 *       parameters and keeps a copy of θ), then uploads θ to backend memory;</li>
 *   <li>{@link #replaceParameters} uploads a new θ and frees the old backend copy: the template
 *       method {@link #setParameters} calls it after its checks;</li>
 *   <li>{@link #releaseNative} frees the native memory: {@link #close} calls it once;</li>
 *   <li>{@link #requireScope} and {@link #isScopeClosed(TensorScope)} say whether a result scope
 *       belongs to the backend and is open, for {@link #checkCall}.</li>
 * </ul>
 * Each derivative method starts with {@link #checkCall} (or {@link #checkBatch} when it returns no
 * tensor) and checks direction arguments with {@link #requireVector} / {@link #requireBlock}.
 *
 * <p><b>Conventions.</b> θ is flat in PyTorch {@code named_parameters()} order as given by
 * {@link ModelSpec#parameterLayout()} (each Dense: weight {@code [out,in]} row-major, then bias
 * {@code [out]}); {@link #numParameters()} is {@code spec.numParameters()}.
 *
 * <p>Not thread-safe ({@link #isThreadSafe()} is false unless a subclass says otherwise): one
 * instance must be used by one thread at a time. Holds native memory: close it.
 *
 * @param <B> the backend type
 * @param <S> the backend's scope type, which results are wrapped in
 */
public abstract class AbstractSpecModel<B extends Backend, S extends TensorScope> implements TwiceDifferentiable {

    /** Above this p, {@link #warnIfLargeHessian} logs a warning. */
    private static final int LARGE_HESSIAN = 5000;

    private final B backend;
    private final ModelSpec spec;
    private final int numParameters;
    private final List<ParameterInfo> layout;
    private double[] theta;
    private volatile boolean closed;

    /**
     * Validates the parameters and keeps a copy of θ. The subclass uploads θ after this returns.
     *
     * @param backend    the backend that runs the model
     * @param spec       the model description (not null)
     * @param parameters θ, of length {@code spec.numParameters()}
     * @throws IllegalArgumentException if the length is not p or a value is NaN/Inf
     */
    protected AbstractSpecModel(B backend, ModelSpec spec, double[] parameters) {
        spec.validateParameters(parameters, "parameters");
        this.backend = backend;
        this.spec = spec;
        this.numParameters = spec.numParameters();
        this.layout = spec.parameterLayout();
        this.theta = parameters.clone();
    }

    @Override
    public final ModelSpec spec() {
        return spec;
    }

    @Override
    public final B backend() {
        return backend;
    }

    @Override
    public final int numParameters() {
        return numParameters;
    }

    /** @return where each parameter tensor lies in θ ({@link ModelSpec#parameterLayout()}) */
    protected final List<ParameterInfo> layout() {
        return layout;
    }

    /** @return the number of Dense layers (each has a weight and a bias tensor in {@link #layout()}) */
    protected final int numDense() {
        return layout.size() / 2;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException if the model is closed
     */
    @Override
    public final double[] parameters() {
        checkOpen();
        return theta.clone();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Checks the model is open and the parameters valid, then has the subclass
     * {@link #replaceParameters replace} its backend copy; the host copy changes only when that
     * succeeded.
     *
     * @throws IllegalStateException if the model is closed
     */
    @Override
    public final void setParameters(double[] parameters) {
        checkOpen();
        spec.validateParameters(parameters, "parameters");
        replaceParameters(parameters);
        theta = parameters.clone();
    }

    /**
     * Uploads a new θ (already validated: length p, finite) to backend memory, makes the model use
     * it and frees the previous backend copy. If the upload fails the model must keep using the
     * previous parameters and nothing of the new ones may stay allocated.
     */
    protected abstract void replaceParameters(double[] parameters);

    /** @return {@code backend().createModel(spec(), parameters())} */
    @Override
    public TwiceDifferentiable replicate() {
        return backend().createModel(spec(), parameters());
    }

    /** @return false: one instance must be used by one thread at a time */
    @Override
    public boolean isThreadSafe() {
        return false;
    }

    /** Frees the model's native memory ({@link #releaseNative}) the first time. Idempotent. */
    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            releaseNative();
        }
    }

    /** Frees the model's native memory; called once, by the first {@link #close()}. */
    protected abstract void releaseNative();

    /** @return e.g. {@code PtModel[p=10, loss=mse, dtype=float64]}, with {@code , closed} once closed */
    @Override
    public String toString() {
        return getClass().getSimpleName() + "[p=" + numParameters + ", loss=" + spec.loss().jsonName() + ", dtype="
                + spec.dtype().jsonName() + (closed ? ", closed" : "") + "]";
    }

    // ---------------------------------------------------------------------------------------------
    // checks

    /**
     * @return {@code scope} as the backend's scope type
     * @throws IllegalArgumentException naming the argument {@code scope} if it is null or belongs to another backend
     */
    protected abstract S requireScope(TensorScope scope);

    /** @return whether {@code scope} (already of the backend's type) was closed */
    protected abstract boolean isScopeClosed(S scope);

    /**
     * The checks of a call that returns tensors: {@link #checkBatch}, then the result scope.
     *
     * @return {@code scope} as the backend's open scope
     * @throws IllegalStateException if the model or the scope is closed
     * @throws IllegalArgumentException if the batch does not fit the spec or is empty, or the scope
     *     belongs to another backend
     */
    protected final S checkCall(Batch batch, TensorScope scope) {
        checkBatch(batch);
        return checkResultScope(scope);
    }

    /**
     * The checks of a call that returns tensors, without a batch (the model is open, the result scope
     * belongs to the backend and is open).
     *
     * @return {@code scope} as the backend's open scope
     * @throws IllegalStateException if the model or the scope is closed
     * @throws IllegalArgumentException if the scope belongs to another backend
     */
    protected final S checkResultScope(TensorScope scope) {
        checkOpen();
        S target = requireScope(scope);
        TensorChecks.checkResultScopeOpen(isScopeClosed(target));
        return target;
    }

    /**
     * Checks that the model is open and that {@code batch} fits the spec ({@link ModelSpec#validate})
     * and holds at least one sample.
     *
     * @throws IllegalStateException if the model is closed
     * @throws IllegalArgumentException naming the argument {@code batch} otherwise
     */
    protected final void checkBatch(Batch batch) {
        checkOpen();
        spec.validate(batch, "batch");
        if (batch.size() == 0) {
            throw new IllegalArgumentException("batch: is empty; a batch needs at least one sample");
        }
    }

    /** @throws IllegalStateException if the model is closed */
    protected final void checkOpen() {
        if (closed) {
            throw new IllegalStateException("model is closed; create a new one with Backend.createModel");
        }
    }

    /**
     * Checks the shape of a parameter-space vector (e.g. the direction of an HVP).
     *
     * @param v    a tensor of the backend (its type is checked by the caller)
     * @param name the argument's name for the message
     * @throws IllegalArgumentException if {@code v} is not of shape {@code [p]}
     */
    protected final void requireVector(Tensor v, String name) {
        long[] shape = v.shape();
        if (shape.length != 1 || shape[0] != numParameters) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " but the model has p="
                    + numParameters + " parameters; expected [" + numParameters + "]");
        }
    }

    /**
     * Checks the shape of a block of parameter-space vectors, one per row.
     *
     * @param vs   a tensor of the backend (its type is checked by the caller)
     * @param name the argument's name for the message
     * @return k, the number of rows (may be 0)
     * @throws IllegalArgumentException if {@code vs} is not of shape {@code [k, p]}
     */
    protected final long requireBlock(Tensor vs, String name) {
        long[] shape = vs.shape();
        if (shape.length != 2 || shape[1] != numParameters) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " but the model has p="
                    + numParameters + " parameters; expected [k, " + numParameters + "]");
        }
        return shape[0];
    }

    // ---------------------------------------------------------------------------------------------
    // shared pieces of the computations

    /**
     * Builds one backend array per parameter tensor of {@link #layout()}, in order, from its slice of
     * θ. If building one fails, those already built are released and the exception is rethrown.
     *
     * @param parameters θ (length p)
     * @param create     makes an array from a slice of θ and the parameter tensor's shape
     * @param release    frees an array built here
     * @param <A>        the backend's array type
     * @return the arrays, one per entry of {@link #layout()}
     */
    protected final <A> List<A> uploadEach(double[] parameters, BiFunction<double[], long[], A> create,
                                           Consumer<? super A> release) {
        List<A> out = new ArrayList<>(layout.size());
        try {
            for (ParameterInfo info : layout) {
                out.add(create.apply(slice(parameters, info, 0), info.shape()));
            }
        } catch (RuntimeException e) {
            for (A a : out) {
                release.accept(a);
            }
            throw e;
        }
        return out;
    }

    /**
     * @return the elements of the parameter tensor {@code info} in the flat vector that starts at
     *     {@code offset} of {@code flat} (a copy)
     */
    protected static double[] slice(double[] flat, ParameterInfo info, int offset) {
        int from = offset + info.offset();
        return Arrays.copyOfRange(flat, from, from + info.size());
    }

    /**
     * The targets of a batch as the loss reads them: a row-major {@code [n, outputDim]} matrix of MSE
     * targets, one-hot class labels (softmax cross-entropy) or binary labels ({@code outputDim} = 1).
     */
    protected final double[] targetValues(Batch batch) {
        return spec.loss().targets(batch.y(), spec.outputDim());
    }

    /** @return the mean of {@code values} (the mean loss from the per-sample losses) */
    protected static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    /**
     * The factors of Dense layer j with the layer index and θ offset of its weight.
     *
     * @param j               the Dense layer's ordinal (0 for the first Dense layer)
     * @param inputs          its per-sample inputs {@code [n, in]}
     * @param outputGradients its per-sample output errors {@code [n, out]}
     */
    protected final DenseLayerFactors denseFactors(int j, Tensor inputs, Tensor outputGradients) {
        ParameterInfo weight = layout.get(2 * j);
        return new DenseLayerFactors(weight.layerIndex(), weight.offset(), inputs, outputGradients);
    }

    /**
     * Logs a warning, with the subclass's logger, when p is large enough that the full Hessian is
     * expensive.
     *
     * @param passes what the backend runs p of, e.g. {@code "backward passes"}
     */
    protected final void warnIfLargeHessian(String passes) {
        if (numParameters > LARGE_HESSIAN) {
            LoggerFactory.getLogger(getClass()).warn("hessian: p={} means {} " + passes
                    + " and a {}x{} matrix; prefer hvp/hvpBlock", numParameters, numParameters, numParameters,
                    numParameters);
        }
    }
}
