/**
 * Checks of attribution quality against reality on the user's own model and data: predicted
 * versus actual change of the test loss under leave-one-out retraining.
 */
package org.influence4j.calculators.validation;
