# TLC's CIFAR network (Li et al., CVPR 2022; lblaoke/TLC model/ResnetCifar.py, ResNet_s): the LDAM-DRW ResNet-32 of
# ../../_base_/models/resnet32_cifar_lt.py with only the stem shared and 3 experts, each owning all three stages
# (16 / 32 / 64 channels, 64-d feature: about 3x a ResNet-32), each a cosine classifier x 30; the prediction is TLC's
# evidential fusion (eta 0.2, softmax over the batch); TLCLoss at the official CIFAR settings. The data configs of
# this folder add the data, class_stats and the DRW epoch.
_base_ = '../../_base_/models/resnet32_cifar_lt.py'
model = dict(
    backbone=dict(stage_channels=(16, 32, 64), num_experts=3, num_shared_stages=0),
    head=dict(type='MultiExpertClsHead', in_channels=64, num_experts=3, scale=30.0,
              fusion=dict(type='evidential', eta=0.2, normalize='batch', sync=True),
              loss=dict(_delete_=True, type='TLCLoss', max_m=0.5, s=30.0, reweight_factor=0.05, annealing=500,
                        tau=0.54, additional_diversity_factor=-0.01)))
custom_hooks = [dict(type='LossEpochHook')]  # tells the loss the epoch (KL annealing, DRW)
