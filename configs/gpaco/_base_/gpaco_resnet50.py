# GPaCo's ImageNet-scale network (dvlab-research/Parametric-Contrastive-Learning@fe56535e GPaCo/LT/moco/builder.py,
# paco_lt.py): PaCo's (configs/paco/_base_/paco_resnet50.py) without the momentum encoder: the key view goes through
# the same encoder with gradient (QueueContrastClassifier with momentum=None), both views are anchors, the projection
# MLP is Linear(2048, 2048) - ReLU - Linear(2048, 2048) - ReLU - Linear(2048, 128) without BatchNorm; the class
# centres (a biased Linear(2048, C) on the pooled feature) score both views; a labelled queue of K 8192 keys;
# GPaCoLoss with T 0.2, alpha 0.05, beta = gamma = 1. The configs of this folder add the data, class_stats and the
# schedule.
model = dict(
    type='QueueContrastClassifier',
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(3, ), style='pytorch', zero_init_residual=False),
    neck=dict(type='MLPNeck', channels=(2048, 2048, 2048, 128)),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=2048, init_cfg=None),
    contrast_loss=dict(type='GPaCoLoss', temperature=0.2, alpha=0.05, beta=1.0, gamma=1.0),
    queue_size=8192, feat_dim=128, momentum=None)
