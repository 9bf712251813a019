package org.influence4j.backend.nd4j;

import java.util.List;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.model.AbstractSpecModel;
import org.influence4j.api.model.ModelGraph;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.graph.AbstractGraphModel;
import org.influence4j.graph.GraphDerivatives;
import org.influence4j.graph.Kernels;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A layer graph ({@link ModelSpec#isGraph()}: convolutions, pooling, embeddings, normalisation,
 * residual connections, GELU) on ND4J, as a {@link TwiceDifferentiable}, float32 or float64. The
 * derivatives are those of {@link GraphDerivatives} (written once in the {@code graph} module) over
 * {@link Nd4jKernels}: exact gradients, batched per-sample gradients (one forward and one backward
 * pass per batch), exact Hessian-vector products (forward over reverse), Gauss-Newton-vector products
 * (J v in forward mode) and, for float inputs, mixed derivatives ∇x∇θ. ND4J's own automatic differentiation (SameDiff) is
 * not used.
 *
 * <p><b>Conventions</b> (those of {@link TwiceDifferentiable}): θ flat in
 * {@link ModelGraph#parameterLayout()} order (PyTorch's {@code named_parameters()}); the batch loss
 * is the mean of the per-sample losses; per-sample gradients are of each sample's own loss.
 *
 * <p><b>Memory.</b> Every call runs in its own {@link Nd4jArena}: each array the computation makes is
 * closed (its native buffer freed) before the call returns, and the result is a new array outside
 * ND4J workspaces that the caller's scope owns, so nothing of a call outlives it but its result.
 * The parameters are closed by {@link #close()} and {@link #setParameters}.
 *
 * <p>Not thread-safe ({@link #isThreadSafe()} is false): one instance must be used by one thread at
 * a time. Holds native memory: close it. The accessors, θ's host copy and the argument checks are
 * those of {@link AbstractSpecModel}.
 */
public final class Nd4jGraphModel
        extends AbstractGraphModel<INDArray, Nd4jTensor, Nd4jBackend, Nd4jTensorScope> {

    private final DataType type;
    private final boolean nativeScatter;
    private List<INDArray> params;

    /**
     * @param backend       the backend
     * @param spec          a graph spec
     * @param parameters    θ (length p)
     * @param nativeScatter whether the kernels use ND4J's scatter-add (see {@link Nd4jKernels})
     * @throws IllegalArgumentException if the spec is not a graph, or the parameters have the wrong
     *     length or a NaN/Inf
     */
    Nd4jGraphModel(Nd4jBackend backend, ModelSpec spec, double[] parameters, boolean nativeScatter) {
        super(backend, spec, parameters);
        this.type = Nd4jDTypes.toNd4j(spec.dtype());
        this.nativeScatter = nativeScatter;
        this.params = upload(parameters);
    }

    /** @return θ as one new array per parameter tensor, in layout order, outside every workspace */
    private List<INDArray> upload(double[] parameters) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return uploadEach(parameters, (part, shape) -> Nd4jArrays.create(part, shape, type), Nd4jArrays::free);
        }
    }

    @Override
    protected void replaceParameters(double[] parameters) {
        List<INDArray> fresh = upload(parameters);
        List<INDArray> old = params;
        params = fresh;
        old.forEach(Nd4jArrays::free);
    }

    @Override
    protected void releaseNative() {
        params.forEach(Nd4jArrays::free);
    }

    @Override
    protected Nd4jTensorScope requireScope(TensorScope scope) {
        return backend().requireScope(scope, "scope");
    }

    @Override
    protected boolean isScopeClosed(Nd4jTensorScope scope) {
        return scope.isClosed();
    }

    /** Runs {@code body} in a new {@link Nd4jArena}: every array of the call is freed when it closes. */
    @Override
    protected <R> R inCallContext(InContext<INDArray, R> body) {
        try (Nd4jArena ar = new Nd4jArena()) {
            return body.apply(new Nd4jKernels(ar, type, nativeScatter));
        }
    }

    @Override
    protected List<INDArray> parameterArrays() {
        return params;
    }

    @Override
    protected Nd4jTensor requireTensor(Nd4jTensorScope target, Tensor t, String argument) {
        return Nd4jTensor.require(t, argument);
    }

    /** @return a C-order copy of the tensor's array in the model's data type, owned by the call */
    @Override
    protected INDArray local(Kernels<INDArray> kernels, Nd4jTensor t) {
        return ((Nd4jKernels) kernels).copyOf(t.array());
    }

    /** A copy made while the arena keeps allocations outside workspaces; the arena frees the original. */
    @Override
    protected Nd4jTensor export(Nd4jTensorScope target, INDArray array) {
        INDArray copy = array.dup('c');
        try {
            return target.wrap(copy);
        } catch (RuntimeException | Error e) {
            Nd4jArrays.free(copy);
            throw e;
        }
    }
}
