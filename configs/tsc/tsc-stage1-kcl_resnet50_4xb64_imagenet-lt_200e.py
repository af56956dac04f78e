# TSC phase 1 (Li et al., CVPR 2022; LTH14/targeted-supcon main_moco_supcon_imba.py with --targeted: the first
# epochs/2 = 200 epochs are plain KCL): the TSC repository's KCL, which differs from BalFeat's
# (../kcl/kcl_resnet50_4xb64_imagenet-lt_200e.py) in its projection (MLP 2048 -> 2048 -> ReLU -> 128, no BatchNorm:
# --mlp), its positives (6 same-class queue slots drawn at random), its weight decay (1e-4) and its views
# (RandomResizedCrop 224 + flip + ColorJitter(0.4, 0.4, 0.4), always applied: the two-view base's pipeline).
# Queue 65,536, T 0.07, momentum 0.999, SGD lr 0.1 (batch 256 on 4 GPUs), cosine per epoch over 200 epochs.
# Then ./tsc_resnet50_4xb64_imagenet-lt_200e.py (phase 2) from its last checkpoint. tools/dist_train.sh THIS_CONFIG 4
_base_ = '../kcl/kcl_resnet50_4xb64_imagenet-lt_200e.py'
model = dict(
    neck=dict(_delete_=True, type='MoCoV2Neck', in_channels=2048, hid_channels=2048, out_channels=128,
              with_avg_pool=False),
    contrast_loss=dict(sampling='random'))
view_pipeline = [
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
]
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]))
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
custom_hooks = []  # the TSC repository's trainer has no init_key_queue: the queue starts empty
