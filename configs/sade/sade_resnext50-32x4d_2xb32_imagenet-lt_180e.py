# SADE (Zhang et al., NeurIPS 2022), 3 experts, ResNeXt-50 (32x4d) on ImageNet-LT, the official run
# (Vanint/SADE-AgnosticLT configs/config_imagenet_lt_resnext50_sade.json): SADELoss tau 2, n_gpu 2 with a total batch
# of 64 (32 per GPU), SGD nesterov lr 0.025, weight decay 5e-4, cosine over 180 epochs; test-time aggregation with
# MoCo-v2 views, SGD lr 0.025, 5 epochs (configs/test_time_imagenet_lt_resnext50_sade.json). The ResNet-50 config
# (./sade_resnet50_2xb32_imagenet-lt_180e.py) with the ResNeXt backbone. tools/dist_train.sh THIS_CONFIG 2
_base_ = './sade_resnet50_2xb32_imagenet-lt_180e.py'
model = dict(backbone=dict(type='RIDEResNeXt', groups=32, width_per_group=4))
