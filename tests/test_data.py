"""Groups, splits and the sampler (pure functions of labels and (seed, step));
the real TFDS path where the prepared copy is at hand."""
import os

import numpy as np
import pytest

from conftest import TFDS_DIR, fake_split, needs_tfds
from grouprep.data import groups as groups_lib
from grouprep.data import omniglot
from grouprep.data import sampler as sampler_lib


def rotation_groups(data=None):
  data = data or fake_split()
  return data, groups_lib.build_groups(data.alphabet, np.arange(len(data)))


def test_rotation_groups_partition_the_items():
  data, g = rotation_groups()
  num_alpha = len(np.unique(data.alphabet))
  assert g.num_groups == 4 * num_alpha
  pairs = set(zip(g.item_image.tolist(), g.item_rotation.tolist()))
  assert len(pairs) == len(g.item_image) == 4 * len(data)  # disjoint, complete
  for k in range(g.num_groups):
    members = g.members(k)
    assert np.all(data.alphabet[g.item_image[members]] == g.group_class[k])
    assert np.all(g.item_rotation[members] == g.group_key[k])


def test_random_groups_are_disjoint_and_seeded():
  data = fake_split()
  make = lambda seed: groups_lib.build_groups(
      data.character, np.arange(len(data)), group_key="random",
      rotations=(0,), group_size=2, seed=seed)
  g = make(0)
  assert np.all(g.group_sizes == 2)
  assert len(set(g.item_image.tolist())) == len(g.item_image)
  for k in range(g.num_groups):
    assert np.all(data.character[g.item_image[g.members(k)]] == g.group_class[k])
  np.testing.assert_array_equal(make(0).item_image, g.item_image)
  assert not np.array_equal(make(1).item_image, g.item_image)


@pytest.mark.parametrize("sets", [2, 3])
def test_disjoint_character_groups_share_no_character_or_drawing(sets):
  # The groups of data.group_key="charset" (training), and the evaluation's
  # metrics.charset_groups, which must cut the same sets for the same seed.
  from grouprep import metrics
  data = fake_split(num_alphabets=4, chars_per_alphabet=7, drawers=3)
  images = np.arange(len(data))
  charsets = lambda seed: groups_lib.build_groups(
      data.alphabet, images, group_key="charset", rotations=(0,), seed=seed,
      characters=data.character, charsets=sets)
  g = charsets(5)
  assert g.num_groups == 4 * sets
  assert np.all(g.item_rotation == 0)  # upright drawings
  assert sorted(g.item_image.tolist()) == images.tolist()  # each drawing once
  for a in range(4):
    chars, drawings = [], []
    for k in np.flatnonzero(g.group_class == a):
      members = g.item_image[g.members(k)]
      assert np.all(data.alphabet[members] == a)
      chars.append(set(data.character[members].tolist()))
      drawings.append(set(members.tolist()))
    for i in range(sets):
      for j in range(i + 1, sets):
        assert not chars[i] & chars[j] and not drawings[i] & drawings[j]
    sizes = sorted(len(c) for c in chars)
    assert sizes[-1] - sizes[0] <= 1 and sum(sizes) == 7  # near-equal split
  # Seeded: the same seed gives the same sets, another seed other sets.
  again = charsets(5)
  np.testing.assert_array_equal(again.item_image, g.item_image)
  other = charsets(6)
  assert not np.array_equal(other.item_image, g.item_image)
  members, labels = metrics.charset_groups(data.alphabet, data.character,
                                           sets, 5)
  np.testing.assert_array_equal(labels, g.group_class)
  for k, m in enumerate(members):
    assert sorted(m.tolist()) == sorted(g.item_image[g.members(k)].tolist())


def test_charset_training_groups_exclude_heldout_characters():
  from conftest import tiny_config
  from grouprep.data.sources import registry as sources
  config = tiny_config()
  config.data.group_key = "charset"
  config.data.charsets_per_alphabet = 3
  source = sources.get(config.data, config.seed)
  data = fake_split(num_alphabets=4, chars_per_alphabet=10, drawers=3)
  held = source.heldout_mask(data)
  g = source.make_groups(data, np.flatnonzero(~held))
  assert g.num_groups == 4 * 3
  assert not np.any(held[g.item_image])
  for a in range(4):
    sets = [set(data.character[g.item_image[g.members(k)]].tolist())
            for k in np.flatnonzero(g.group_class == a)]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
  with pytest.raises(ValueError, match="fewer than the 9 disjoint"):
    config.data.charsets_per_alphabet = 9
    source.make_groups(data, np.flatnonzero(~held))


def test_heldout_characters_are_a_seeded_fraction_of_each_alphabet():
  data = fake_split(num_alphabets=4, chars_per_alphabet=10)
  held = groups_lib.heldout_character_mask(data.alphabet, data.character, 0.2, 0)
  for a in range(4):
    chars = np.unique(data.character[held & (data.alphabet == a)])
    assert len(chars) == 2
    # Whole characters: every drawing of a held-out character is held out.
    assert np.all(held[np.isin(data.character, chars)])
  np.testing.assert_array_equal(
      held, groups_lib.heldout_character_mask(data.alphabet, data.character,
                                              0.2, 0))
  assert not np.array_equal(held, groups_lib.heldout_character_mask(
      data.alphabet, data.character, 0.2, 1))


def make_sampler(c=3, v=2, m=5, seed=0):
  _, g = rotation_groups()
  return sampler_lib.Sampler(g, c, v, m, seed)


def test_sampler_is_a_pure_function_of_seed_and_step():
  s = make_sampler()
  np.testing.assert_array_equal(s.indices(7), make_sampler().indices(7))
  assert not np.array_equal(s.indices(7), s.indices(8))
  assert not np.array_equal(s.indices(7), make_sampler(seed=1).indices(7))


def test_sampler_batches_have_distinct_classes_groups_and_items():
  s = make_sampler(c=4, v=3, m=6)
  g = s.groups
  item_group = g.item_group
  for step in range(20):
    idx = s.indices(step)
    assert idx.shape == (4, 3, 6)
    groups = item_group[idx]  # [C, V, M]
    assert np.all(groups == groups[:, :, :1])  # each row of M: one group
    classes = g.group_class[groups[:, :, 0]]
    assert np.all(classes == classes[:, :1])  # each row of V: one class
    assert len(set(classes[:, 0].tolist())) == 4
    assert all(len(set(row.tolist())) == 3 for row in groups[:, :, 0])
    assert len(set(idx.reshape(-1).tolist())) == idx.size


def test_sampler_rejects_impossible_shapes():
  with pytest.raises(sampler_lib.BatchShapeError, match="items_per_group"):
    make_sampler(m=10_000)
  with pytest.raises(sampler_lib.BatchShapeError, match="classes_per_batch"):
    make_sampler(c=50)
  with pytest.raises(sampler_lib.BatchShapeError, match="classes_per_batch"):
    make_sampler(v=5)  # only 4 rotation groups per class
  with pytest.raises(sampler_lib.BatchShapeError, match="divisible"):
    sampler_lib.shard(np.zeros((3, 3, 1)), 2)  # 9 images on 2 devices


def test_shard_splits_the_flattened_batch_in_row_major_order():
  """Device d holds rows d * C*V*M/n .. of the flattened batch: whole
  classes when n divides C, otherwise classes cut between devices."""
  batch = np.arange(3 * 2 * 4 * 5).reshape(3, 2, 4, 5)  # [C, V, M, pixels]
  for n in (1, 2, 3, 4, 6, 8, 12, 24):
    out = sampler_lib.shard(batch, n)
    assert out.shape == (n, 24 // n, 5)
    np.testing.assert_array_equal(out.reshape(-1, 5), batch.reshape(-1, 5))
  # n divides C: the old split by classes, unchanged.
  np.testing.assert_array_equal(sampler_lib.shard(batch, 3).reshape(3, 2, 4, 5),
                                batch)
  np.testing.assert_array_equal(sampler_lib.shard(np.arange(24).reshape(
      3, 2, 4), 8)[1], [3, 4, 5])  # indices alone: no trailing axes


def test_gather_images_rotates_and_scales():
  data, g = rotation_groups()
  for r in range(4):
    i = int(np.flatnonzero(g.item_rotation == r)[0])
    got = sampler_lib.gather_images(data.images, g, np.array([i]))[0, ..., 0]
    want = np.rot90(data.images[g.item_image[i]], k=r).astype(np.float32) / 255
    np.testing.assert_array_equal(got, want)


def test_gather_on_the_device_equals_the_host_gather_bit_for_bit():
  """The device-fed step's gather (uint8 table, index, rotation by a pixel
  permutation, float32 on the device) gives exactly gather_images' values,
  for every pixel value 0..255 and every rotation; the table holds only the
  images some item uses."""
  import jax  # pylint: disable=g-import-not-at-top
  data, g = rotation_groups()
  images = np.random.default_rng(0).integers(
      0, 256, data.images.shape).astype(np.uint8)
  keep = np.flatnonzero(g.item_image % 3 != 0)  # images 0, 3, ... unused
  g = groups_lib.Groups(g.item_image[keep], g.item_rotation[keep],
                        np.array([0, len(keep)]), np.array([0]),
                        np.array([0]))
  table = sampler_lib.image_table(images, g)
  assert table.pixels.shape == (len(np.unique(g.item_image)),
                                images.shape[1] * images.shape[2])
  assert sampler_lib.image_table_bytes(images, g) == sum(
      x.nbytes for x in table)
  idx = np.random.default_rng(1).integers(0, len(keep), (3, 2, 5))
  assert set(g.item_rotation[idx].ravel()) == {0, 1, 2, 3}
  got = jax.jit(sampler_lib.gather_images_on_device)(table, idx)
  want = sampler_lib.gather_images(images, g, idx)
  assert got.dtype == want.dtype and got.shape == want.shape
  np.testing.assert_array_equal(np.asarray(got), want)
  assert len(np.unique(images[g.item_image[idx]])) == 256


def test_missing_data_is_a_clear_error(tmp_path):
  with pytest.raises(omniglot.DataError, match="TFDS_DATA_DIR"):
    omniglot.load_split("train", data_dir=str(tmp_path / "nothing"),
                        cache_dir=str(tmp_path / "cache"), download=False)


@needs_tfds
def test_real_omniglot_loads_with_strokes_bright_and_caches(tmp_path, capfd):
  kw = dict(image_size=28, data_dir=TFDS_DIR, cache_dir=str(tmp_path))
  data = omniglot.load_split("small1", **kw)
  assert "Decoding omniglot/small1" in capfd.readouterr().err
  assert data.images.shape == (2720, 28, 28) and data.images.dtype == np.uint8
  # Strokes are a minority of the pixels and bright after the flip.
  assert 0.02 < (data.images > 127).mean() < 0.4
  assert data.images[:, 0, 0].max() == 0  # corners are background
  assert os.path.exists(tmp_path / "omniglot-3.0.0-small1-28.npz")
  again = omniglot.load_split("small1", **kw)
  assert "Decoding" not in capfd.readouterr().err  # read from the cache
  np.testing.assert_array_equal(again.images, data.images)
  np.testing.assert_array_equal(again.character, data.character)
  assert len(again.alphabet_names) == 50


@needs_tfds
def test_real_train_split_counts(tmp_path):
  data = omniglot.load_split("train", image_size=28, data_dir=TFDS_DIR,
                             cache_dir=os.environ.get("GROUPREP_CACHE"))
  assert len(data) == 19280
  assert len(np.unique(data.alphabet)) == 30
  assert len(np.unique(data.character)) == 964
