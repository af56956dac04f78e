# MDCS's ImageNet-LT / iNaturalist network (Zhao et al., ICCV 2023; fistyee/MDCS model/fb_resnets/*, ResNet50Model /
# ResNeXt50Model with reduce_dimension, use_norm, 3 experts), RIDE's as in ../../sade/_base_/sade_resnet50.py: shared
# stem + layer1 + layer2, 3 experts of layer3 + layer4 at 3/4 width (a 1536-d feature each), each a cosine classifier
# x 30; fed the [weak; strong] batch by MDCSClassifier, trained with MDCSLoss; prediction the mean of the raw expert
# logits (no fusion). The configs of this folder add the data, class_stats and the schedule.
_base_ = '../../_base_/models/resnet50_lt.py'
model = dict(
    type='MDCSClassifier',
    backbone=dict(type='RIDEResNet', num_experts=3, num_shared_stages=2, expert_widen_factor=0.75,
                  zero_init_residual=False),
    head=dict(type='MultiExpertClsHead', in_channels=1536, num_experts=3, scale=30.0,
              loss=dict(_delete_=True, type='MDCSLoss')))
custom_hooks = [dict(type='LossEpochHook')]  # the epoch of the CS weight 0.6 * min(epoch / 20, 1)
