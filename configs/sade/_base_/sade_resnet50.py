# SADE's ImageNet-LT / iNaturalist network (Zhang et al., NeurIPS 2022; Vanint/SADE-AgnosticLT
# model/fb_resnets/Expert_ResNeXt.py, Expert_ResNet.py with reduce_dimension, use_norm, 3 experts), RIDE's: shared
# stem + layer1 + layer2, 3 experts of layer3 + layer4 at 3/4 width (a 1536-d feature each), each a cosine classifier
# x 30; BatchNorm weights start at 1 in every block (the official init), not mmpretrain's zero-initialised residuals.
# SADELoss (tau 2); the prediction is the mean of the experts or the test-time aggregation's weights
# (model.head.fusion.weights). The configs of this folder add the data, class_stats and the schedule.
_base_ = '../../_base_/models/resnet50_lt.py'
model = dict(
    backbone=dict(type='RIDEResNet', num_experts=3, num_shared_stages=2, expert_widen_factor=0.75,
                  zero_init_residual=False),
    head=dict(type='MultiExpertClsHead', in_channels=1536, num_experts=3, scale=30.0,
              fusion=dict(type='weighted', weights=None),
              loss=dict(_delete_=True, type='SADELoss', tau=2.0)))
