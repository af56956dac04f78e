# PaCo's ImageNet-scale network (dvlab-research/Parametric-Contrastive-Learning@fe56535e PaCo/LT/moco/builder.py,
# paco_lt.py): a torchvision-style ResNet-50 (BatchNorm weights 1 in every block, not mmpretrain's zero-initialised
# residuals), the projection MLP Linear(2048, 2048) - BatchNorm1d - ReLU - Linear(2048, 128) on the pooled feature,
# the class centres = a biased Linear(2048, C) on the same pooled, unnormalised feature (PyTorch's default init),
# a momentum key encoder (m 0.999, its own BatchNorm statistics, shuffle-BN) and a labelled queue of K 8192 keys;
# PaCoLoss with T 0.2, alpha 0.05, beta = gamma = 1. The configs of this folder add the data, class_stats and
# the schedule.
model = dict(
    type='QueueContrastClassifier',
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(3, ), style='pytorch', zero_init_residual=False),
    neck=dict(type='MLPNeck', channels=(2048, 2048, 128), norm_cfg=dict(type='BN1d')),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=2048, init_cfg=None),
    contrast_loss=dict(type='PaCoLoss', temperature=0.2, alpha=0.05, beta=1.0, gamma=1.0),
    queue_size=8192, feat_dim=128, momentum=0.999)
