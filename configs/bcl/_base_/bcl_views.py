# BCL's view augmentations (FlamieZhu/Balanced-Contrastive-Learning@f72d0703 main.py lines 149-192) in mmpretrain's
# transforms, for MultiView pipelines; the vocabulary (crop, jitter, grayscale, the official RandAugment) is PaCo's
# (../../_base_/datasets/paco_augmentation.py: the RandAugment is byte-identical in the two repositories).
# `--cl_views sim-sim` (the default and the README's first row): view 0 `randcls` for the classifier, views 1 and 2
# `sim` for the contrast: `MultiView(num_views=[1, 2], transforms=[randcls_view, bcl_sim_view])`.
_base_ = '../../_base_/datasets/paco_augmentation.py'
# `augmentation_randncls` (crop, flip, jitter (0.4, 0.4, 0.4, 0) always, RandAugment n2 m10) is PaCo's randcls_view.
# `augmentation_sim` (BCL's, not PaCo's): crop (0.08, 1), flip, jitter (0.4, 0.4, 0.4, hue 0.1) with p 0.8,
# grayscale p 0.2, no blur. (Negative hues need ltmm.core.compat.patch_mmcv_adjust_hue under numpy 2, applied by
# ltmm.cls.)
bcl_sim_view = [
    {{_base_.paco_crop}},
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomApply', transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                                              hue=0.1)], prob=0.8),
    {{_base_.paco_gray}},
]
