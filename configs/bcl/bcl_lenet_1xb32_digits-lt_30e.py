# BCL (Zhu et al., CVPR 2022) on Digits-LT (CPU demo): LeNet-5 (a 120-d feature), the three views of a batch through
# the one encoder (view 0 for the classifier, views 1 and 2 for the contrast; all three the Digits-LT crop), the
# projection MLP and the prototype MLP Linear(120, 120) - BN1d - ReLU - Linear(120, 32), the cosine classifier
# (s 30) with the logit-compensated CE, BCLLoss with the official T 0.07 and beta 0.35, and the configs/baseline
# demo schedule (SGD lr 0.05, batch 32, cosine over 30 epochs).
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first; python tools/train.py THIS_CONFIG
_base_ = ['../_base_/datasets/digits_lt_two_view.py', '../_base_/schedules/digits_lt_30e.py',
          '../_base_/default_runtime_cls.py']
model = dict(
    type='MultiViewContrastClassifier',
    backbone=dict(type='LeNet5', num_classes=-1),
    neck=dict(type='MLPNeck', channels=(120, 120, 32), norm_cfg=dict(type='BN1d')),
    head=dict(type='CosineClsHead', num_classes={{_base_.num_classes}}, in_channels=120, scale=30.0,
              loss=dict(type='LogitAdjustedLoss', class_stats={{_base_.class_stats}}, tau=1.0)),
    contrast_loss=dict(type='BCLLoss', num_classes={{_base_.num_classes}}, in_channels=120, feat_dim=32,
                       temperature=0.07, loss_weight=0.35),
    cls_views=(0, ), contrast_views=(1, 2))
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='MultiView', num_views=[1, 2], transforms=[{{_base_.view_pipeline}}, {{_base_.view_pipeline}}]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
