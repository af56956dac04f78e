# BalPoE's ImageNet-LT / iNaturalist network (Sanchez Aimar et al., CVPR 2023; emasa/BalPoE-CalibratedLT
# model/fb_resnets/Expert_ResNet.py, Expert_ResNeXt.py with reduce_dimension false, use_norm, 3 experts): shared stem +
# layer1 + layer2, 3 experts of layer3 + layer4 at full width (a 2048-d feature each, not RIDE / SADE's 3/4 width),
# each a cosine classifier x 30; BatchNorm weights start at 1 in every block (the official zero_init_residual=False).
# BalPoELoss with the ImageNet-LT tau (0, 1.25, 2.5) and input mixup alpha 0.3 over the whole run
# (configs/mixup/standard_training/config_imagenet_lt_{resnet50,resnext50}_bs-experts.json). The configs of this folder
# add the data, class_stats and the schedule.
_base_ = '../../_base_/models/resnet50_lt.py'
model = dict(
    backbone=dict(type='RIDEResNet', num_experts=3, num_shared_stages=2, expert_widen_factor=1.0,
                  zero_init_residual=False),
    head=dict(type='MultiExpertClsHead', in_channels=2048, num_experts=3, scale=30.0,
              loss=dict(_delete_=True, type='BalPoELoss', tau_list=[0.0, 1.25, 2.5])),
    train_cfg=dict(augments=dict(type='Mixup', alpha=0.3)))
