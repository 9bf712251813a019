package org.influence4j.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.function.Supplier;
import org.influence4j.api.Tensor;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.graph.AbstractGraphModel;
import org.influence4j.graph.Kernels;

/**
 * A layer graph ({@link ModelSpec#isGraph()}: convolutions, pooling, embeddings, normalisation,
 * residual connections) on a DJL engine: {@link AbstractGraphModel} over {@link DjlKernels}. The
 * engine's own autograd is not used (the engine-specific {@code noGrad} hook turns its recording
 * off). Every call runs in its own sub-manager, closed at the end; results are moved into the
 * caller's scope, so nothing of a call outlives it but its result (flat native memory). Not
 * thread-safe. Holds native memory: close it.
 *
 * @param <T> the backend's tensor type
 * @param <S> the backend's scope type
 */
public final class DjlGraphModel<T extends DjlTensor<T, S>, S extends DjlTensorScope<T, S>>
        extends AbstractGraphModel<NDArray, T, DjlBackend<S>, S> {

    private final DataType dataType;
    private final NDManager manager;
    private final DjlKernels.Uploader uploader;
    private final DjlKernels.EngineOps engineOps;
    private final Supplier<AutoCloseable> noGrad;
    private List<NDArray> params;

    /**
     * @param backend    the backend
     * @param spec       a graph spec
     * @param parameters θ (length p)
     * @param uploader   how host data becomes engine arrays
     * @param engineOps  what the engine does natively (row and column gathers, layers without gradient)
     * @param noGrad     turns the engine's autograd recording off until closed
     * @throws IllegalArgumentException if the spec is not a graph or the parameters do not fit it
     */
    public DjlGraphModel(DjlBackend<S> backend, ModelSpec spec, double[] parameters, DjlKernels.Uploader uploader,
                         DjlKernels.EngineOps engineOps, Supplier<AutoCloseable> noGrad) {
        super(backend, spec, parameters);
        this.dataType = DjlDTypes.toDjl(spec.dtype());
        this.uploader = uploader;
        this.engineOps = engineOps;
        this.noGrad = noGrad;
        this.manager = backend.engine().newBaseManager();
        try {
            this.params = upload(parameters);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private List<NDArray> upload(double[] parameters) {
        return uploadEach(parameters, (data, shape) -> uploader.upload(manager, data, new Shape(shape), dataType),
                NDArray::close);
    }

    @Override
    protected void replaceParameters(double[] parameters) {
        List<NDArray> fresh = upload(parameters);
        List<NDArray> old = params;
        params = fresh;
        old.forEach(NDArray::close);
    }

    @Override
    protected void releaseNative() {
        manager.close();
    }

    @Override
    protected S requireScope(org.influence4j.api.TensorScope scope) {
        return backend().requireScope(scope, "scope");
    }

    @Override
    protected boolean isScopeClosed(S scope) {
        return scope.isClosed();
    }

    @Override
    protected <R> R inCallContext(InContext<NDArray, R> body) {
        try (NDManager m = manager.newSubManager()) {
            return withoutGrad(body, new DjlKernels(m, dataType, uploader, engineOps));
        }
    }

    /** @return {@code body} applied to {@code kernels} with the engine's autograd recording off */
    private <R> R withoutGrad(InContext<NDArray, R> body, DjlKernels kernels) {
        try (AutoCloseable g = noGrad.get()) {
            return body.apply(kernels);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("closing the engine's no-grad mode failed: " + e.getMessage(), e);
        }
    }

    /**
     * {@inheritDoc} Here: a sub-manager of the model's manager, so closing the model frees it too.
     */
    @Override
    protected KeptContext<NDArray> openKeptContext() {
        NDManager m = manager.newSubManager();
        DjlKernels kernels = new DjlKernels(m, dataType, uploader, engineOps);
        return new KeptContext<>() {
            @Override
            public <R> R apply(InContext<NDArray, R> body) {
                return withoutGrad(body, kernels);
            }

            @Override
            public void close() {
                m.close();
            }
        };
    }

    @Override
    protected List<NDArray> parameterArrays() {
        return params;
    }

    @Override
    protected T requireTensor(S target, Tensor t, String argument) {
        return target.requireTensor(t, argument);
    }

    @Override
    protected NDArray local(Kernels<NDArray> kernels, T t) {
        NDArray a = t.ndArray();
        NDArray copy = a.getDataType() == dataType ? a.duplicate() : a.toType(dataType, true);
        return ((DjlKernels) kernels).adopt(copy);
    }

    /**
     * Moves a result made in the call's manager to the target scope (no copy: the engine frees it
     * with the scope); a parameter array of the model itself is copied.
     */
    @Override
    protected T export(S target, NDArray array) {
        return target.wrap(array.getManager() == manager ? array.duplicate() : array);
    }
}
