"""Numbers for generative models computed on our own Fashion-MNIST classifier (no pretrained Inception here):
FID and KID on its penultimate features, the label accuracy of class-conditional samples, and the NLL bound."""
from .evaluate import balanced_labels, evaluate, format_table, label_accuracy, nll_bound, sample_in_batches
from .feature_classifier import (
    DEFAULT_CLASSIFIER_PATH,
    FeatureClassifier,
    extract_features,
    load_classifier,
    predict_labels,
    save_classifier,
    train_classifier,
)
from .fid import feature_statistics, fid_from_features, frechet_distance, kid_from_features, mmd2_unbiased

__all__ = ["FeatureClassifier", "DEFAULT_CLASSIFIER_PATH", "train_classifier", "save_classifier", "load_classifier",
           "extract_features", "predict_labels", "feature_statistics", "frechet_distance", "fid_from_features",
           "mmd2_unbiased", "kid_from_features", "balanced_labels", "sample_in_batches", "label_accuracy", "nll_bound",
           "evaluate", "format_table"]
