package org.influence4j.api;

/** What a backend can do; reported honestly by {@link Backend#capabilities()}. */
public enum BackendCapability {
    /** float64 tensors and models. */
    FLOAT64,
    /** Runs on an NVIDIA GPU. */
    CUDA,
    /** Hessian-vector products are exact (double backward or R-operator), not finite differences. */
    EXACT_HVP,
    /** Per-sample gradients come from one batched pass. */
    BATCHED_PER_SAMPLE_GRADIENTS,
    /** Several threads may use one model instance at the same time. */
    THREAD_SAFE_MODELS,
    /** {@link TwiceDifferentiable#denseLayerFactors} is implemented. */
    DENSE_LAYER_FACTORS,
    /** {@link TwiceDifferentiable#mixedGradientProducts} is implemented (perturbation influences). */
    MIXED_DERIVATIVES,
    /** Format-2 layer graphs ({@link org.influence4j.api.model.ModelGraph}) can be built as models. */
    LAYER_GRAPH,
    /** {@link TwiceDifferentiable#gaussNewtonBlock} is implemented for the backend's layer-graph models. */
    GAUSS_NEWTON,
    /**
     * {@link Backend#loadModel} reads TorchScript modules
     * ({@link org.influence4j.api.model.NativeModelFormat#TORCHSCRIPT}).
     */
    TORCHSCRIPT
}
