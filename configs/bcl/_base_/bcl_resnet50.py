# BCL's network (FlamieZhu/Balanced-Contrastive-Learning@f72d0703 models/resnext.py BCLModel, main.py defaults):
# a ResNet-50 encoder (Kaiming fan_out, BN weight 1, no zero-init residual) through which the three views of a batch
# pass together; the projection MLP `head` Linear(2048, 2048) - BN1d - ReLU - Linear(2048, 1024) (feat_dim 1024);
# the cosine classifier `fc` (scale 30) trained on view 0 with the logit-compensated CE (logit adjustment, tau 1,
# weight alpha 1.0); BCLLoss (T 0.07, weight beta 0.35) on views 1 and 2 with the class prototypes
# normalize(head_fc(W)) of the raw classifier weights, head_fc the same MLP shape. The configs of this folder add
# the data, class_stats and the schedule.
model = dict(
    type='MultiViewContrastClassifier',
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(3, ), style='pytorch', zero_init_residual=False),
    neck=dict(type='MLPNeck', channels=(2048, 2048, 1024), norm_cfg=dict(type='BN1d')),
    head=dict(type='CosineClsHead', num_classes=1000, in_channels=2048, scale=30.0,
              loss=dict(type='LogitAdjustedLoss', tau=1.0, loss_weight=1.0)),
    contrast_loss=dict(type='BCLLoss', num_classes=1000, in_channels=2048, feat_dim=1024, temperature=0.07,
                       loss_weight=0.35),
    cls_views=(0, ), contrast_views=(1, 2))
